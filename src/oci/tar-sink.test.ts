import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TAR_CHUNK, TarSink } from "./tar-sink.js";

interface Sent {
  data: ArrayBuffer;
  length: number;
}

function collecting(maxInFlight?: number): { sink: TarSink; sent: Sent[]; bytes: () => Buffer } {
  const sent: Sent[] = [];
  const sink = new TarSink((data, length) => sent.push({ data, length }), maxInFlight);
  return { sink, sent, bytes: () => Buffer.concat(sent.map((s) => Buffer.from(s.data, 0, s.length))) };
}

test("packs pushes into whole chunks and hashes exactly what it sent", async () => {
  const { sink, sent, bytes } = collecting(100);
  const pieces = [Buffer.alloc(700_000, 1), Buffer.alloc(700_000, 2), Buffer.from("tail")];
  for (const p of pieces) sink.push(p);
  assert.equal(sink.ready, true);
  const { diffId, size } = await sink.finish();
  const all = Buffer.concat(pieces);
  assert.deepEqual(sent.map((s) => s.length), [TAR_CHUNK, all.length - TAR_CHUNK]);
  assert.ok(sent.every((s) => s.data.byteLength === TAR_CHUNK), "each chunk owns one chunk-sized buffer");
  assert.ok(bytes().equals(all));
  assert.equal(size, all.length);
  assert.equal(diffId, `sha256:${createHash("sha256").update(all).digest("hex")}`);
});

test("keeps at most maxInFlight chunks unacknowledged", async () => {
  const { sink, sent } = collecting(2);
  for (let i = 0; i < 5; i++) sink.push(Buffer.alloc(TAR_CHUNK, i));
  let drained = false;
  const drain = sink.drain().then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 2);
  assert.equal(drained, false);
  sink.ack();
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 3);
  sink.ack();
  sink.ack();
  await drain;
  assert.equal(sent.length, 5);
  assert.deepEqual(sent.map((s) => Buffer.from(s.data)[0]), [0, 1, 2, 3, 4], "in order");
});

test("readFrom reads into the chunk, never past its end, and reports end of file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tar-sink-"));
  try {
    const content = Buffer.alloc(TAR_CHUNK + 100);
    for (let i = 0; i < content.length; i++) content[i] = i % 251;
    await writeFile(join(dir, "f"), content);
    const { sink, bytes } = collecting(100);
    sink.push(Buffer.alloc(10, 0xee));
    const fd = openSync(join(dir, "f"), "r");
    try {
      assert.equal(sink.readFrom(fd, 1e9), TAR_CHUNK - 10, "stops at the chunk's end");
      assert.equal(sink.free, TAR_CHUNK);
      assert.equal(sink.readFrom(fd, 1e9), 110);
      assert.equal(sink.readFrom(fd, 1e9), 0);
    } finally {
      closeSync(fd);
    }
    await sink.finish();
    assert.ok(bytes().equals(Buffer.concat([Buffer.alloc(10, 0xee), content])));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
