// Docker-ADD archive handling: whether a file is a (possibly compressed) tar, and extracting one into a
// directory as Docker's chrootarchive.Untar does — the directory acts as `/` for every path and link in
// the archive, existing paths are replaced (directories merged), owners/modes/times come from the headers.
import type { Stats } from "node:fs";
import { createWriteStream } from "node:fs";
import { chmod, lchown, link, lstat, lutimes, mkdir, rm, symlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, type Header } from "tar-stream";
import { canceledError, GantryError } from "../../util/errors.js";
import { detectCompression, openDecompressed } from "./decompress.js";
import { fsError, isErrno } from "./fs-error.js";
import { goBase, goClean, goDir } from "./go-path.js";
import { makeNode } from "./make-node.js";

/** A tar entry as tar-stream yields it: the header and an async-iterable body. */
type Entry = AsyncIterable<Buffer> & { header: Header; resume(): unknown };
import { mkdirAll } from "./mkdir-all.js";
import { displayPath, resolveInRoot } from "./root-path.js";

/** True when `path` is a regular file whose (decompressed) start is a valid tar header. */
export async function isArchive(path: string): Promise<boolean> {
  try {
    if (!(await lstat(path)).isFile()) return false;
    const stream = openDecompressed(path, await detectCompression(path));
    try {
      return isTarHeader(await readPrefix(stream, 512));
    } finally {
      stream.destroy();
    }
  } catch {
    // Anything unreadable or corrupt is "not an archive": it is then copied as a plain file.
    return false;
  }
}

async function readPrefix(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= n) break;
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** A full, non-zero 512-byte block whose checksum (unsigned or signed sum) is right, as Go's reader wants. */
function isTarHeader(block: Buffer): boolean {
  if (block.length < 512 || block.every((b) => b === 0)) return false;
  const field = block.subarray(148, 156).toString("latin1").replace(/[\0 ]+$/, "").replace(/^ +/, "");
  if (!/^[0-7]+$/.test(field)) return false;
  const stored = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/**
 * Extracts the archive at `archivePath` into the existing host directory `destDir`. Entries keep the
 * archive's owners and modes (upstream v0.11 ADD does not apply --chown to them). Throws on a corrupt
 * archive or an entry type that cannot be created.
 */
export async function untar(archivePath: string, destDir: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const input = openDecompressed(archivePath, await detectCompression(archivePath));
  // V7 (pre-POSIX) headers are valid for Go's reader too.
  const ex = extract({ allowUnknownFormat: true } as Parameters<typeof extract>[0]);
  input.on("error", (err) => ex.destroy(err));
  input.pipe(ex as unknown as NodeJS.WritableStream);
  const dirs: Array<{ path: string; header: Header }> = [];
  try {
    for await (const entry of ex) {
      if (opts.signal?.aborted) throw canceledError(opts.signal);
      const dir = await extractEntry(entry as unknown as Entry, destDir);
      if (dir !== undefined) dirs.push({ path: dir, header: entry.header });
    }
  } catch (err) {
    if (err instanceof GantryError) throw err;
    throw new GantryError("InvalidArgument", `Cannot extract archive ${archivePath}: ${String(err)}`, { cause: err });
  } finally {
    input.destroy();
  }
  // Directory times last: creating their children changed them.
  for (const d of dirs.reverse()) {
    const t = times(d.header);
    await utimes(d.path, t.atime, t.mtime);
  }
}

/** Creates one entry; returns its host path when it is a directory (for the final times pass). */
async function extractEntry(entry: Entry, root: string): Promise<string | undefined> {
  const h = entry.header;
  const name = goClean(h.name);
  if (name === "." || name === "/") {
    entry.resume();
    return undefined;
  }
  const parent = await resolveInRoot(root, goDir("/" + name));
  if (!(await exists(parent))) await mkdirAll(parent, { mode: 0o755, root, owner: { uid: 0, gid: 0 } });
  const path = join(parent, goBase(name));
  const shown = displayPath(root, path);
  const existing = await lstatOrUndefined(path);
  if (existing !== undefined && !(existing.isDirectory() && h.type === "directory")) {
    await rm(path, { recursive: true, force: true });
  }
  try {
    await createEntry(entry, path, root, existing?.isDirectory() ?? false);
    const pax = paxOf(h);
    await lchown(path, num(pax.uid) ?? h.uid ?? 0, num(pax.gid) ?? h.gid ?? 0);
    if (h.type !== "symlink") await chmod(path, (h.mode ?? 0o644) & 0o7777);
    if (h.type === "directory") return path;
    const t = times(h);
    if (h.type === "symlink") await lutimes(path, t.atime, t.mtime);
    else if (h.type !== "link" || !(await lstat(path)).isSymbolicLink()) await utimes(path, t.atime, t.mtime);
  } catch (err) {
    throw fsError("extract", shown, err);
  }
  return undefined;
}

async function createEntry(entry: Entry, path: string, root: string, isDir: boolean): Promise<void> {
  const h = entry.header;
  // Unknown type flags come through as null at run time.
  switch (h.type as Header["type"] | null) {
    case "directory":
      entry.resume();
      if (!isDir) await mkdir(path, 0o700);
      return;
    case "file":
    case "contiguous-file":
      await pipeline(entry, createWriteStream(path, { mode: 0o600 }));
      return;
    case "link": {
      entry.resume();
      const target = await resolveInRoot(root, h.linkname ?? "", { followFinal: false });
      await link(target, path);
      return;
    }
    case "symlink":
      entry.resume();
      await symlink(h.linkname ?? "", path);
      return;
    case "fifo":
    case "character-device":
    case "block-device":
      entry.resume();
      await makeNode(path, h.type === "fifo" ? "fifo" : h.type === "character-device" ? "char" : "block",
        h.devmajor ?? 0, h.devminor ?? 0);
      return;
    default:
      entry.resume();
      throw new GantryError("InvalidArgument", `Cannot extract ${JSON.stringify(h.name)}: unhandled tar entry type ${String(h.type)}.`);
  }
}

function paxOf(h: Header): Record<string, string> {
  return (h.pax as Record<string, string> | null | undefined) ?? {};
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === "") return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** Header times, preferring PAX's sub-second values; atime falls back to mtime. */
function times(h: Header): { atime: number; mtime: number } {
  const pax = paxOf(h);
  const mtime = num(pax.mtime) ?? (h.mtime?.getTime() ?? 0) / 1000;
  return { atime: num(pax.atime) ?? mtime, mtime };
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  return (await lstatOrUndefined(p)) !== undefined;
}
