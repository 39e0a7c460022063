import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { sha256 } from "../util/digest.js";
import { isCanceled, isInvalidArgument } from "../util/errors.js";
import { estargzFromTar, type EstargzResult } from "./estargz.js";
import { ESTARGZ_FOOTER_SIZE, parseEstargzFooter, type Toc, type TocEntry } from "./estargz-toc.js";

const CHUNK = 64 * 1024;
let dir: string;
const files = new Map<string, Buffer>();

before(() => {
  dir = mkdtempSync(join(tmpdir(), "estargz-test-"));
  const root = join(dir, "root");
  const deep = `d/${"n".repeat(60)}/${"m".repeat(60)}`;
  mkdirSync(join(root, deep), { recursive: true });
  const add = (rel: string, data: Buffer): void => {
    writeFileSync(join(root, rel), data);
    files.set(`./${rel}`, data);
  };
  add("empty", Buffer.alloc(0));
  add("small.txt", Buffer.from("hello <estargz> & friends\n"));
  add("large.bin", randomBytes(3 * CHUNK + 1234));
  add("exact.bin", randomBytes(2 * CHUNK));
  add(`${deep}/long-name-file.txt`, Buffer.from("a file whose path is longer than 100 bytes\n"));
  symlinkSync("small.txt", join(root, "link"));
  linkSync(join(root, "small.txt"), join(root, "hard"));
  utimesSync(join(root, "small.txt"), 1_600_000_000, 1_600_000_000);
  execFileSync("tar", ["-C", root, "-cf", join(dir, "gnu.tar"), "."]);
  execFileSync("tar", ["-C", root, "--format=pax", "-cf", join(dir, "pax.tar"), "."]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Converted {
  blob: Buffer;
  result: EstargzResult;
}

async function convert(tarFile: string, lossless = false): Promise<Converted> {
  const conv = estargzFromTar(createReadStream(tarFile, { highWaterMark: 10_000 }), { chunkSize: CHUNK, lossless });
  const parts: Buffer[] = [];
  for await (const b of conv.blob) parts.push(b);
  return { blob: Buffer.concat(parts), result: await conv.done };
}

function readToc(blob: Buffer): { toc: Toc; json: Buffer; tocOffset: number } {
  const tocOffset = parseEstargzFooter(blob.subarray(blob.length - ESTARGZ_FOOTER_SIZE));
  const tocTar = gunzipSync(blob.subarray(tocOffset, blob.length - ESTARGZ_FOOTER_SIZE));
  assert.equal(tocTar.toString("latin1", 0, 17), "stargz.index.json");
  const size = parseInt(tocTar.toString("latin1", 124, 135), 8);
  const json = tocTar.subarray(512, 512 + size);
  return { toc: JSON.parse(json.toString("utf8")) as Toc, json, tocOffset };
}

function tarNames(tar: Buffer): string[] {
  return execFileSync("tar", ["-tf", "-"], { input: tar }).toString().trim().split("\n");
}

for (const format of ["gnu", "pax"]) {
  test(`a ${format} tar becomes a valid eStargz blob`, async () => {
    const tarFile = join(dir, `${format}.tar`);
    const { blob, result } = await convert(tarFile);
    const plain = gunzipSync(blob);

    // (1) the blob is one gzip stream holding one tar: landmark, the input's entries, then the TOC.
    const verbose = execFileSync("tar", ["-tvf", "-"], { input: plain }).toString();
    assert.match(verbose, /-> small\.txt/);
    assert.match(verbose, /link to \.\/small\.txt/);
    assert.deepEqual(tarNames(plain), [".no.prefetch.landmark", ...tarNames(readFileSync(tarFile)), "stargz.index.json"]);

    // (2) the footer points at the TOC, whose JSON digest is tocDigest.
    const { toc, json, tocOffset } = readToc(blob);
    assert.equal(sha256(json), result.tocDigest);
    assert.equal(toc.version, 1);
    assert.ok(json.toString().startsWith('{\n\t"version": 1,\n\t"entries": [\n\t\t{\n\t\t\t"name": ".no.prefetch.landmark",'));

    // (3) every chunk is its own gzip member holding the right bytes.
    checkChunks(blob, toc, tocOffset);
    checkEntries(toc);

    // (4) diffID and size are those of the decompressed blob; the input's bytes sit unchanged inside it.
    assert.equal(result.diffId, sha256(plain));
    assert.equal(result.uncompressedSize, plain.length);
    assert.equal(result.blobDigest, sha256(blob));
    assert.equal(result.blobSize, blob.length);
    assert.deepEqual(result.annotations, {
      "containerd.io/snapshot/stargz/toc.digest": result.tocDigest,
      "io.containers.estargz.uncompressed-size": String(plain.length),
    });
    const input = readFileSync(tarFile);
    const tocTarLen = 512 + Math.ceil(json.length / 512) * 512 + 1024;
    const kept = plain.length - 1024 - tocTarLen;
    assert.deepEqual(plain.subarray(1024, 1024 + kept), input.subarray(0, kept));
    assert.ok(input.subarray(kept).every((b) => b === 0), "only the end-of-archive blocks were dropped");
  });
}

function checkChunks(blob: Buffer, toc: Toc, tocOffset: number): void {
  const starts = [...new Set(toc.entries.flatMap((e) => (e.offset ? [e.offset] : [])))].sort((a, b) => a - b);
  const bounds = [...starts, tocOffset];
  let file: Buffer = Buffer.alloc(0);
  for (const e of toc.entries) {
    if (e.type !== "reg" && e.type !== "chunk") continue;
    if (e.type === "reg") {
      file = e.name === ".no.prefetch.landmark" ? Buffer.from([0x0f]) : (files.get(e.name) as Buffer);
      assert.ok(file, `file ${e.name} is one of the inputs`);
      assert.equal(e.digest, sha256(file), `digest of ${e.name}`);
      assert.equal(e.size ?? 0, file.length);
      if (file.length === 0) {
        assert.equal(e.offset, undefined);
        continue;
      }
    }
    const offset = e.offset as number;
    const end = bounds[bounds.indexOf(offset) + 1];
    const member = gunzipSync(blob.subarray(offset, end));
    const from = e.chunkOffset ?? 0;
    const len = e.chunkSize ?? file.length - from;
    assert.deepEqual(member.subarray(0, len), file.subarray(from, from + len), `chunk of ${e.name} at ${from}`);
    assert.equal(e.chunkDigest, sha256(file.subarray(from, from + len)));
  }
}

function checkEntries(toc: Toc): void {
  const byName = new Map<string, TocEntry[]>();
  for (const e of toc.entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  const large = byName.get("./large.bin") as TocEntry[];
  assert.deepEqual(large.map((e) => [e.type, e.chunkOffset, e.chunkSize]),
    [["reg", undefined, CHUNK], ["chunk", CHUNK, CHUNK], ["chunk", 2 * CHUNK, CHUNK], ["chunk", 3 * CHUNK, undefined]]);
  const exact = byName.get("./exact.bin") as TocEntry[];
  assert.deepEqual(exact.map((e) => [e.type, e.chunkOffset, e.chunkSize]), [["reg", undefined, CHUNK], ["chunk", CHUNK, CHUNK]]);
  const [link] = byName.get("./link") as TocEntry[];
  assert.deepEqual([link.type, link.linkName], ["symlink", "small.txt"]);
  const [hard] = byName.get("./hard") as TocEntry[];
  assert.deepEqual([hard.type, hard.linkName], ["hardlink", "./small.txt"]);
  const [small] = byName.get("./small.txt") as TocEntry[];
  assert.equal(small.modtime, "2020-09-13T12:26:40Z");
  assert.equal((small.mode ?? 0) & 0o777, 0o644);
  const [root] = byName.get("./") as TocEntry[];
  assert.equal(root.type, "dir");
  assert.ok(toc.entries.some((e) => e.name.endsWith("/long-name-file.txt") && e.name.length > 100));
  assert.equal(toc.entries.filter((e) => e.type === "reg" && e.name === "./empty").length, 1);
}

test("lossless mode keeps the input byte for byte and adds no landmark", async () => {
  const tarFile = join(dir, "gnu.tar");
  const { blob, result } = await convert(tarFile, true);
  const plain = gunzipSync(blob);
  const input = readFileSync(tarFile);
  assert.deepEqual(plain.subarray(0, input.length), input);
  const { toc, json, tocOffset } = readToc(blob);
  assert.equal(sha256(json), result.tocDigest);
  assert.ok(!toc.entries.some((e) => e.name.includes("landmark")));
  assert.equal(plain.toString("latin1", input.length, input.length + 17), "stargz.index.json");
  checkChunks(blob, toc, tocOffset);
  assert.equal(result.diffId, sha256(plain));
});

test("conversion is deterministic and the level changes the blob, not the content", async () => {
  const tarFile = join(dir, "gnu.tar");
  const a = await convert(tarFile);
  const b = await convert(tarFile);
  assert.deepEqual(a.blob, b.blob);
  const stored = estargzFromTar(createReadStream(tarFile), { chunkSize: CHUNK, level: 0 });
  const parts: Buffer[] = [];
  for await (const p of stored.blob) parts.push(p);
  assert.ok(Buffer.concat(parts).length > a.blob.length);
  assert.deepEqual(tarNames(gunzipSync(Buffer.concat(parts))), tarNames(gunzipSync(a.blob)));
});

async function* chunks(...bufs: Buffer[]): AsyncGenerator<Buffer> {
  for (const b of bufs) yield b;
}

async function drain(conv: ReturnType<typeof estargzFromTar>): Promise<unknown> {
  try {
    for await (const b of conv.blob) void b;
  } catch (err) {
    await assert.rejects(conv.done);
    return err;
  }
  return undefined;
}

test("a truncated or corrupt tar fails with InvalidArgument", async () => {
  const input = readFileSync(join(dir, "gnu.tar"));
  const truncated = await drain(estargzFromTar(chunks(input.subarray(0, 2000))));
  assert.ok(isInvalidArgument(truncated), String(truncated));
  const corrupt = Buffer.from(input);
  corrupt[600] ^= 0xff; // the second header's name: its checksum no longer matches
  const bad = await drain(estargzFromTar(chunks(corrupt)));
  assert.ok(isInvalidArgument(bad) && /checksum/.test(String(bad)), String(bad));
  assert.throws(() => estargzFromTar(chunks(input), { level: 11 }), /compression-level/);
});

test("abort fails the blob and done with Canceled", async () => {
  const ac = new AbortController();
  const conv = estargzFromTar(createReadStream(join(dir, "gnu.tar"), { highWaterMark: 4096 }), { chunkSize: CHUNK, signal: ac.signal });
  let err: unknown;
  try {
    for await (const b of conv.blob) {
      void b;
      ac.abort();
    }
  } catch (e) {
    err = e;
  }
  assert.ok(isCanceled(err), String(err));
  await assert.rejects(conv.done, (e: unknown) => isCanceled(e));
});

test("abort while waiting for input fails with Canceled", async () => {
  const input = readFileSync(join(dir, "gnu.tar"));
  async function* stalled(): AsyncGenerator<Buffer> {
    yield input.subarray(0, 3000);
    await new Promise(() => undefined); // never produces more
  }
  const ac = new AbortController();
  const conv = estargzFromTar(stalled(), { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  const err = await drain(conv);
  assert.ok(isCanceled(err), String(err));
});

test("stopping early rejects done with Canceled", async () => {
  const conv = estargzFromTar(createReadStream(join(dir, "gnu.tar")), { chunkSize: CHUNK });
  for await (const b of conv.blob) {
    void b;
    break;
  }
  await assert.rejects(conv.done, (e: unknown) => isCanceled(e));
});
