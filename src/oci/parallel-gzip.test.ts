import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable, type Duplex } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { isCanceled, isInvalidArgument } from "../util/errors.js";
import { createParallelGzip, DEFAULT_GZIP_BLOCK_BYTES, type ParallelGzipOptions } from "./parallel-gzip.js";

const BLOCK = DEFAULT_GZIP_BLOCK_BYTES;
const TOOL_OPTS = { maxBuffer: 256 << 20 };

/** Real text: this repository's TypeScript sources, repeated up to `size` bytes. */
function sourceText(size: number): Buffer {
  const files: Buffer[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith(".ts")) files.push(readFileSync(join(dir, e.name)));
    }
  };
  walk(join(import.meta.dirname, ".."));
  const all = Buffer.concat(files);
  return Buffer.concat(Array.from({ length: Math.ceil(size / all.length) }, () => all)).subarray(0, size);
}

/** Text and random stretches of uneven lengths, like a layer of sources, binaries and archives. */
function mixed(size: number): Buffer {
  const text = sourceText(size);
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < size; i++) {
    const n = Math.min(size - at, 5000 + ((i * 7919) % 90_000));
    parts.push(i % 3 === 1 ? randomBytes(n) : text.subarray(at, at + n));
    at += n;
  }
  return Buffer.concat(parts);
}

/** Compresses `data` written in chunks of the given sizes (cycled); "whole" writes it at once. */
async function gzip(data: Buffer, sizes: number[] | "whole", opts: ParallelGzipOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  if (sizes === "whole") chunks.push(data);
  else for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length] as number;
    chunks.push(data.subarray(at, at + n));
    at += n;
  }
  const gz = createParallelGzip(opts);
  const out = buffer(gz);
  await pipeline(Readable.from(chunks), gz);
  return out;
}

/** Asserts that zlib, `gunzip` and `gzip -t` all accept `gz` as the gzip of `data`. */
function assertGzipOf(gz: Buffer, data: Buffer): void {
  assert.ok(gunzipSync(gz).equals(data), "zlib round trip");
  assert.ok(execFileSync("gunzip", ["-c"], { input: gz, ...TOOL_OPTS }).equals(data), "gunzip round trip");
  execFileSync("gzip", ["-t"], { input: gz, ...TOOL_OPTS });
}

test("round-trips through zlib and gunzip at the block-size edges and for every kind of data", async () => {
  const text = sourceText(5 * BLOCK + 12345);
  const cases: [string, Buffer][] = [
    ["empty", Buffer.alloc(0)],
    ["one byte", Buffer.from("x")],
    ["exactly one block", text.subarray(0, BLOCK)],
    ["one block and a byte", text.subarray(0, BLOCK + 1)],
    ["many blocks of text", text],
    ["random", randomBytes(3 * BLOCK + 777)],
    ["mixed", mixed(4 * BLOCK + 99)],
  ];
  for (const [name, data] of cases) {
    const gz = await gzip(data, [65536]);
    assert.deepEqual(gz.subarray(0, 10), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), `${name}: header, mtime 0`);
    assertGzipOf(gz, data);
  }
});

test("the output depends only on the input, not on how it is chunked", async () => {
  const data = mixed(300_000);
  const opts = { blockBytes: 16 * 1024 };
  const whole = await gzip(data, "whole", opts);
  assertGzipOf(whole, data);
  assert.deepEqual(await gzip(data, [1], opts), whole, "1-byte writes");
  assert.deepEqual(await gzip(data, [7919, 3, 65536, 101], opts), whole, "odd-size writes");
  const big = mixed(3 * BLOCK + 5);
  const byWhole = await gzip(big, "whole", { concurrency: 4 });
  assert.deepEqual(await gzip(big, [1, 2, 99_991, 1], { concurrency: 1 }), byWhole, "default blocks, tiny and odd writes");
});

test("text compresses within 1% of gzip -6", async () => {
  const text = sourceText(4 * BLOCK);
  const ours = await gzip(text, [BLOCK]);
  const theirs = execFileSync("gzip", ["-6", "-n", "-c"], { input: text, ...TOOL_OPTS });
  assertGzipOf(ours, text);
  assert.ok(ours.length <= theirs.length * 1.01, `${ours.length} B vs gzip -6 ${theirs.length} B`);
  const best = await gzip(text, [BLOCK], { level: 9 });
  assertGzipOf(best, text);
  assert.ok(best.length <= ours.length);
  assert.equal(best[8], 2, "XFL says maximum compression");
});

test("random data is stored: no larger than the input plus framing", async () => {
  const data = randomBytes(2 * BLOCK + 4321);
  const gz = await gzip(data, [100_000]);
  assertGzipOf(gz, data);
  const framing = 18 + 5 * Math.ceil(data.length / 65535) + 16;
  assert.ok(gz.length <= data.length + framing, `${gz.length} B for ${data.length} B`);
});

test("level 0 stores, level 9 round-trips; mixed data compresses about as well as gzip -6", async () => {
  const data = mixed(3 * BLOCK);
  const stored = await gzip(data, [4096], { level: 0 });
  assertGzipOf(stored, data);
  assert.ok(stored.length > data.length && stored.length < data.length * 1.001);
  const ours = await gzip(data, [BLOCK]);
  const theirs = execFileSync("gzip", ["-6", "-n", "-c"], { input: data, ...TOOL_OPTS });
  assert.ok(ours.length <= theirs.length * 1.01, `${ours.length} B vs gzip -6 ${theirs.length} B`);
  assertGzipOf(await gzip(data, [12345], { level: 9 }), data);
});

test("aborting mid-stream fails the stream with Canceled", async () => {
  const ac = new AbortController();
  const gz = createParallelGzip({ signal: ac.signal });
  let produced = 0;
  const endless = new Readable({
    read() {
      produced += 256 * 1024;
      this.push(randomBytes(256 * 1024));
    },
  });
  const drained = pipeline(endless, gz, async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) if (c.length > 0 && produced > 4 * BLOCK) ac.abort();
  });
  await assert.rejects(drained, (e: unknown) => isCanceled(e));
  assert.ok(gz.destroyed);
});

test("an already-aborted signal and a destroyed stream end without output or hang", async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(buffer(Readable.from([Buffer.alloc(10)]).pipe(createParallelGzip({ signal: ac.signal }))), isCanceled);
  const gz: Duplex = createParallelGzip();
  gz.write(randomBytes(3 * BLOCK));
  gz.destroy();
  await new Promise((resolve) => gz.once("close", resolve));
});

test("bad options are InvalidArgument", () => {
  assert.throws(() => createParallelGzip({ level: 10 }), isInvalidArgument);
  assert.throws(() => createParallelGzip({ level: 1.5 }), isInvalidArgument);
  assert.throws(() => createParallelGzip({ blockBytes: 10 }), isInvalidArgument);
  assert.throws(() => createParallelGzip({ concurrency: 0 }), isInvalidArgument);
});
