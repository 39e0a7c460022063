import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { FrameWriter, decodeGrpcFrames, encodeGrpcFrame, encodeGrpcFrames } from "./grpc-frame.js";
import { GantryError } from "../util/errors.js";

function messages(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(i % 7 === 0 ? "" : `message ${i} `.repeat(i % 5 + 1)));
}

async function collect(stream: PassThrough): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const m of decodeGrpcFrames(stream)) out.push(m);
  return out;
}

const ended = (): Error => new GantryError("Canceled", "The test stream has ended.");

test("encodeGrpcFrames is the concatenation of single frames", () => {
  const ms = messages(20);
  assert.deepEqual(encodeGrpcFrames(ms), Buffer.concat(ms.map(encodeGrpcFrame)));
  assert.equal(encodeGrpcFrames([]).length, 0);
});

test("a batch arrives as the same messages, in order, as individual sends around it", async () => {
  const ms = messages(50);
  const single = new PassThrough();
  const batched = new PassThrough();
  const writes: number[] = [];
  const origWrite = batched.write.bind(batched);
  batched.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
    writes.push(chunk.length);
    return origWrite(chunk, cb);
  }) as typeof batched.write;
  const a = new FrameWriter(single, ended);
  const b = new FrameWriter(batched, ended);
  const got = [collect(single), collect(batched)];
  await Promise.all(ms.map((m) => a.send(m)));
  await b.send(ms[0]);
  await b.sendMany(ms.slice(1, 49));
  await b.sendMany([]);
  await b.send(ms[49]);
  single.end();
  batched.end();
  const [one, many] = await Promise.all(got);
  assert.deepEqual(many.map((m) => Buffer.from(m)), ms.map((m) => Buffer.from(m)));
  assert.deepEqual(many.map((m) => Buffer.from(m)), one.map((m) => Buffer.from(m)));
  assert.deepEqual(writes.length, 3, "one write for the batch, one per single send, none for an empty batch");
});

test("sendMany rejects once the stream has ended, and after a failed write", async () => {
  const s = new PassThrough();
  const w = new FrameWriter(s, ended);
  s.end();
  await assert.rejects(w.sendMany(messages(3)), /test stream has ended/);

  const broken = new PassThrough({
    write(_chunk, _enc, cb) {
      cb(new Error("disk on fire"));
    },
  });
  broken.on("error", () => undefined);
  const bw = new FrameWriter(broken, ended);
  await bw.sendMany(messages(3)).catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  await assert.rejects(bw.sendMany(messages(2)), /test stream has ended/);
  await assert.rejects(bw.send(Buffer.from("x")), /test stream has ended/);
});

test("sendMany waits while the stream is backed up and resolves on drain", async () => {
  const s = new PassThrough({ highWaterMark: 1024 });
  const w = new FrameWriter(s, ended);
  const big = Array.from({ length: 40 }, () => Buffer.alloc(32 * 1024, 1));
  let settled = false;
  const p = w.sendMany(big).then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, "more than the writer's limit is queued and nobody reads");
  const got = collect(s);
  await p;
  assert.equal(settled, true);
  s.end();
  assert.equal((await got).length, 40);
});
