import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { isCanceled, isInvalidArgument } from "../util/errors.js";
import { MediaType } from "./media-types.js";
import { compressStream, hasTool, layerMediaType } from "./compress.js";

// Compressible but not trivial: random bytes repeated.
const input = Buffer.concat(Array.from({ length: 64 }, () => randomBytes(64 * 1024).subarray(0, 16 * 1024)).flatMap((b) => [b, b]));

async function run(stream: ReturnType<typeof compressStream>, data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), stream, async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) chunks.push(c);
  });
  return Buffer.concat(chunks);
}

test("gzip is the block-parallel compressor: round-trips, mtime 0, the same bytes every time", async () => {
  const out = await run(compressStream("gzip"), input);
  assert.ok(out.length < input.length);
  assert.deepEqual(gunzipSync(out), input);
  assert.equal(out.readUInt32LE(4), 0);
  assert.deepEqual(await run(compressStream("gzip"), input), out);
  assert.deepEqual(await run(compressStream("gzip", { level: 6 }), input), out, "6 is the default level");
  const stored = await run(compressStream("gzip", { level: 0 }), input);
  assert.deepEqual(gunzipSync(stored), input);
  assert.ok(stored.length > input.length, "level 0 stores");
});

test("gzip through zlib round-trips and honours the level", async () => {
  const fast = await run(compressStream("gzip", { builtinGzip: true, level: 1 }), input);
  const stored = await run(compressStream("gzip", { builtinGzip: true, level: 0 }), input);
  assert.deepEqual(gunzipSync(fast), input);
  assert.deepEqual(gunzipSync(stored), input);
  assert.ok(stored.length > input.length);
});

test("zstd through the zstd tool round-trips", { skip: !hasTool("zstd") && "zstd not installed" }, async () => {
  const out = await run(compressStream("zstd", { level: 5 }), input);
  assert.equal(out.readUInt32LE(0), 0xfd2fb528);
  assert.deepEqual(execFileSync("zstd", ["-d", "-c"], { input: out, maxBuffer: 64 << 20 }), input);
});

test("uncompressed passes bytes through", async () => {
  assert.deepEqual(await run(compressStream("uncompressed"), input), input);
});

test("a bad level is InvalidArgument naming compression-level", () => {
  assert.throws(() => compressStream("gzip", { level: 10 }), (e: unknown) => isInvalidArgument(e) && /compression-level/.test(String(e)));
  assert.throws(() => compressStream("zstd", { level: 0 }), isInvalidArgument);
});

for (const [name, opts] of [["zstd", {}], ["gzip", {}], ["gzip", { builtinGzip: true }]] as const) {
  const label = `${name}${"builtinGzip" in opts ? " (zlib)" : ""}`;
  test(`aborting ${label} fails the stream with Canceled`, { skip: name === "zstd" && !hasTool("zstd") && "zstd not installed" }, async () => {
    const ac = new AbortController();
    const s = compressStream(name, { ...opts, signal: ac.signal });
    const infinite = new Readable({ read() { this.push(randomBytes(64 * 1024)); } });
    const p = pipeline(infinite, s, async (src: AsyncIterable<Buffer>) => {
      let n = 0;
      for await (const c of src) n += c.length;
      return n;
    });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, isCanceled);
  });
}

test("media types follow the compression and the flavour", () => {
  assert.equal(layerMediaType("gzip", true), MediaType.ociLayerGzip);
  assert.equal(layerMediaType("gzip", false), MediaType.dockerLayerGzip);
  assert.equal(layerMediaType("uncompressed", false), MediaType.dockerLayer);
  assert.equal(layerMediaType("zstd", true), MediaType.ociLayerZstd);
});
