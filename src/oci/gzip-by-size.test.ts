import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable, type Duplex } from "node:stream";
import { buffer } from "node:stream/consumers";
import { test } from "node:test";
import { createGzip, gunzipSync, gzipSync } from "node:zlib";
import { gzipBySize } from "./gzip-by-size.js";

function feed(d: Duplex, data: Buffer, step: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += step) chunks.push(data.subarray(i, i + step));
  const out = buffer(d);
  Readable.from(chunks).pipe(d);
  return out;
}

test("inputs up to smallBytes are gzipped in-process, larger ones by the large compressor", async () => {
  let started = 0;
  const large = (): Duplex => {
    started++;
    return createGzip({ level: 1 }); // a different level, to tell the two apart by their bytes
  };
  const small = randomBytes(1000);
  assert.deepEqual(await feed(gzipBySize({ level: 6, smallBytes: 1000, large }), small, 300), gzipSync(small, { level: 6 }));
  assert.equal(started, 0, "an input of exactly smallBytes stays in-process");
  const big = Buffer.concat([randomBytes(5000), Buffer.alloc(50_000, "x")]);
  const out = await feed(gzipBySize({ level: 6, smallBytes: 1000, large }), big, 700);
  assert.equal(started, 1);
  assert.deepEqual(gunzipSync(out), big);
  assert.deepEqual(out, gzipSync(big, { level: 1 }), "held bytes and the rest all went through `large`");
});

test("the same input gives the same bytes however it is chunked", async () => {
  const data = randomBytes(4000);
  const a = await feed(gzipBySize({ level: 6, smallBytes: 1 << 20, large: () => createGzip() }), data, 1);
  const b = await feed(gzipBySize({ level: 6, smallBytes: 1 << 20, large: () => createGzip() }), data, 4000);
  assert.deepEqual(a, b);
});

test("an error of the large compressor fails the stream", async () => {
  const failing = (): Duplex => {
    const z = createGzip();
    setImmediate(() => z.destroy(new Error("compressor broke")));
    return z;
  };
  await assert.rejects(feed(gzipBySize({ level: 6, smallBytes: 10, large: failing }), randomBytes(100_000), 1000), /compressor broke/);
});
