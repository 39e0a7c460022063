import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { inflateRawSync } from "node:zlib";
import { Limiter } from "../util/limiter.js";
import { isCanceled } from "../util/errors.js";
import { DEFLATE_WINDOW, deflateBlock, storedBlocks } from "./deflate-block.js";
import { SEGMENT_BYTES } from "./incompressible-runs.js";

const text = Buffer.from("const pieces = await Promise.all(runs.map((run, i) => piece(run, i)));\n".repeat(3000));

test("stored framing inflates back for every size around the 64 KiB block limit", () => {
  for (const n of [0, 1, 65534, 65535, 65536, 200_000]) {
    const data = randomBytes(n);
    const framed = storedBlocks(data, true);
    assert.equal(framed.length, n + 5 * Math.max(1, Math.ceil(n / 65535)));
    assert.deepEqual(inflateRawSync(framed), data, `${n} bytes`);
  }
});

test("blocks deflated apart, with stored runs between, concatenate into one valid stream", async () => {
  // Text, random segments (stored), then text that repeats the first text: the dictionary must reach it.
  const data = Buffer.concat([text.subarray(0, 3 * SEGMENT_BYTES), randomBytes(2 * SEGMENT_BYTES), text.subarray(0, 5 * SEGMENT_BYTES)]);
  const opts = { level: 6, limiter: new Limiter(2) };
  const cut = [0, 40_000, 70_000, 100_000, data.length];
  const pieces = await Promise.all(cut.slice(1).map((end, i) => {
    const start = cut[i] as number;
    const before = data.subarray(Math.max(0, start - DEFLATE_WINDOW), start);
    return deflateBlock({ data: data.subarray(start, end), before, final: end === data.length }, opts);
  }));
  assert.deepEqual(inflateRawSync(Buffer.concat(pieces)), data);
  const whole = await deflateBlock({ data, before: Buffer.alloc(0), final: true }, opts);
  assert.deepEqual(inflateRawSync(whole), data);
  assert.ok(whole.length < data.length / 2 + 2 * SEGMENT_BYTES, "text compressed, random stored");
  assert.deepEqual(inflateRawSync(await deflateBlock({ data: Buffer.alloc(0), before: data, final: true }, opts)), Buffer.alloc(0));
});

test("an aborted signal rejects zlib calls that wait for the limiter with Canceled", async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(deflateBlock({ data: text, before: Buffer.alloc(0), final: true }, { level: 6, limiter: new Limiter(1), signal: ac.signal }), isCanceled);
});
