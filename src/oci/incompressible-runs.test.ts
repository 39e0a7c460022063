import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { looksIncompressible, planDeflateRuns, SEGMENT_BYTES } from "./incompressible-runs.js";

const empty = Buffer.alloc(0);
const text = Buffer.from("export function looksIncompressible(segment: Uint8Array): boolean {\n".repeat(400)).subarray(0, SEGMENT_BYTES);

test("random and already-compressed bytes look incompressible; text and structure do not", () => {
  for (let i = 0; i < 50; i++) assert.ok(looksIncompressible(randomBytes(SEGMENT_BYTES)), "random");
  const compressed = gzipSync(randomBytes(4 * SEGMENT_BYTES).toString("hex")).subarray(100, 100 + SEGMENT_BYTES);
  assert.ok(looksIncompressible(compressed), "gzip output");
  assert.ok(!looksIncompressible(text), "text");
  assert.ok(!looksIncompressible(Buffer.alloc(SEGMENT_BYTES)), "zeros");
  // Random 32-bit words with a zero high byte: deflate gains ~25 %; the stride-3 sample sees the zeros.
  const words = randomBytes(SEGMENT_BYTES);
  for (let i = 3; i < words.length; i += 4) words[i] = 0;
  assert.ok(!looksIncompressible(words), "structured words");
  // Mostly random with a sixth of it text: still worth deflating.
  const mostly = Buffer.concat([randomBytes(SEGMENT_BYTES - 2731), text.subarray(0, 2731)]);
  assert.ok(!looksIncompressible(mostly), "random with some text");
});

test("runs merge adjacent segments of a kind; the short tail and level 0 follow fixed rules", () => {
  const r = (): Buffer => randomBytes(SEGMENT_BYTES);
  const block = Buffer.concat([text, r(), r(), text, r(), randomBytes(100)]);
  assert.deepEqual(planDeflateRuns(block, empty, 6), [
    { start: 0, end: SEGMENT_BYTES, stored: false },
    { start: SEGMENT_BYTES, end: 3 * SEGMENT_BYTES, stored: true },
    { start: 3 * SEGMENT_BYTES, end: 4 * SEGMENT_BYTES, stored: false },
    { start: 4 * SEGMENT_BYTES, end: 5 * SEGMENT_BYTES, stored: true },
    { start: 5 * SEGMENT_BYTES, end: block.length, stored: false },
  ]);
  assert.deepEqual(planDeflateRuns(block, empty, 0), [{ start: 0, end: block.length, stored: true }]);
  assert.deepEqual(planDeflateRuns(Buffer.alloc(0), empty, 6), []);
  assert.deepEqual(planDeflateRuns(text.subarray(0, 10), empty, 6), [{ start: 0, end: 10, stored: false }]);
});

test("a random segment that repeats bytes from the last 32 KiB is deflated, not stored", () => {
  const r = randomBytes(SEGMENT_BYTES);
  const twice = Buffer.concat([r, r, randomBytes(SEGMENT_BYTES)]);
  assert.deepEqual(planDeflateRuns(twice, empty, 6).map((x) => x.stored), [true, false, true]);
  // The copy's source in the previous block, within the window.
  assert.deepEqual(planDeflateRuns(r, Buffer.concat([r, randomBytes(1000)]), 6).map((x) => x.stored), [false]);
  // Out of the window: deflate could not match it either.
  assert.deepEqual(planDeflateRuns(r, Buffer.concat([r, randomBytes(40_000)]), 6).map((x) => x.stored), [true]);
  // A 5 KiB repeat inside a segment is found by a probe.
  const five = randomBytes(SEGMENT_BYTES);
  five.copy(five, 9000, 100, 100 + 5 * 1024);
  assert.deepEqual(planDeflateRuns(five, empty, 6).map((x) => x.stored), [false]);
});
