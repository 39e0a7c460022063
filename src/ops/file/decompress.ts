// Opens a possibly compressed file as a stream of its decompressed bytes, detecting the format from its
// magic number like Docker's DecompressStream: gzip in-process, bzip2/xz/zstd through their CLIs.
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { GantryError } from "../../util/errors.js";

/** A compression format recognised by its magic number. */
export type Compression = "none" | "gzip" | "bzip2" | "xz" | "zstd";

const MAGIC: Array<[Compression, number[]]> = [
  ["gzip", [0x1f, 0x8b, 0x08]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

const TOOLS: Record<"bzip2" | "xz" | "zstd", string> = { bzip2: "bzip2", xz: "xz", zstd: "zstd" };

/** The compression of a file, from its first bytes. */
export async function detectCompression(path: string): Promise<Compression> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(6);
    const { bytesRead } = await fh.read(buf, 0, 6, 0);
    for (const [kind, magic] of MAGIC) {
      if (bytesRead >= magic.length && magic.every((b, i) => buf[i] === b)) return kind;
    }
    return "none";
  } finally {
    await fh.close();
  }
}

/**
 * A readable of the decompressed content. Destroying it stops the reading (and kills a helper
 * process). A corrupt input or a failing helper surfaces as a stream error (Internal).
 */
export function openDecompressed(path: string, compression: Compression): Readable {
  if (compression === "none") return createReadStream(path);
  if (compression === "gzip") {
    const src = createReadStream(path);
    const gunzip = createGunzip();
    src.on("error", (err) => gunzip.destroy(err));
    gunzip.on("close", () => src.destroy());
    return src.pipe(gunzip);
  }
  return spawnDecompressor(TOOLS[compression], path);
}

function spawnDecompressor(tool: string, path: string): Readable {
  const child = spawn(tool, ["-dc", path], { stdio: ["ignore", "pipe", "pipe"] });
  const out = new PassThrough();
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
  child.stdout.pipe(out, { end: false });
  child.on("error", (err) => out.destroy(new GantryError("Internal", `Cannot run ${tool} to decompress ${path}: ${err.message}`, { cause: err })));
  child.on("close", (code, signal) => {
    if (out.destroyed) return;
    if (code === 0) out.end();
    else out.destroy(new GantryError("Internal", `Cannot decompress ${path}: ${tool} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
  });
  out.on("close", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return out;
}
