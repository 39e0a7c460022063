import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalContentStore } from "../content/local-content-store.js";
import { codeOf } from "../util/errors.js";
import type { Digest } from "../util/digest.js";
import { HistoryLogWriter, readStatusLog } from "./history-log-writer.js";

async function withStore<T>(fn: (store: Awaited<ReturnType<typeof openLocalContentStore>>) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-hlog-"));
  try {
    return await fn(await openLocalContentStore(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a status log round-trips as length-prefixed StatusResponses and counts steps like upstream", async () => {
  await withStore(async (store) => {
    const w = new HistoryLogWriter(store, "build1");
    const t = new Date(1_700_000_000_000);
    w.push({ type: "vertex", digest: "sha256:a", inputs: [], name: "[1/2] FROM busybox", started: t });
    w.push({ type: "vertex", digest: "sha256:a", inputs: [], name: "[1/2] FROM busybox", started: t, completed: t, cached: true });
    w.push({ type: "vertex", digest: "sha256:b", inputs: ["sha256:a"], name: "[2/2] RUN echo hi", started: t });
    w.push({ type: "log", vertex: "sha256:b", stream: 1, data: Buffer.from("hi\n"), timestamp: t });
    await new Promise((r) => setTimeout(r, 150)); // a tick passes: the first batch is written on its own
    w.push({ type: "warning", vertex: "sha256:b", level: 1, short: "careful", detail: [] });
    w.push({ type: "vertex", digest: "sha256:c", inputs: [], name: "failing", started: t, error: "boom" });
    const summary = await w.finish();
    assert.deepEqual({ ...summary, blob: undefined }, { blob: undefined, numCachedSteps: 1, numCompletedSteps: 1, numTotalSteps: 3, numWarnings: 1 });
    assert.ok(summary.blob);
    const info = await store.info(summary.blob.digest);
    assert.equal(info.size, summary.blob.size);
    const messages = [];
    for await (const m of readStatusLog(store, summary.blob.digest)) messages.push(m);
    assert.equal(messages.length, 2);
    assert.deepEqual(messages.flatMap((m) => m.vertexes.map((v) => v.name)), ["[1/2] FROM busybox", "[1/2] FROM busybox", "[2/2] RUN echo hi", "failing"]);
    assert.equal(Buffer.from(messages[0].logs[0].msg).toString(), "hi\n");
    assert.equal(messages[1].warnings.length, 1);
    assert.equal(messages[1].vertexes[0].error, "boom");
  });
});

test("a build without progress has no logs blob", async () => {
  await withStore(async (store) => {
    const summary = await new HistoryLogWriter(store, "empty").finish();
    assert.equal(summary.blob, undefined);
    assert.equal(summary.numTotalSteps, 0);
  });
});

test("a truncated status log is FailedPrecondition, not a silent short read", async () => {
  await withStore(async (store) => {
    const frame = Buffer.alloc(4 + 3);
    frame.writeUInt32LE(10, 0);
    const digest: Digest = await store.putBlob(frame);
    await assert.rejects(async () => {
      for await (const m of readStatusLog(store, digest)) void m;
    }, (err: unknown) => codeOf(err) === "FailedPrecondition" && /truncated/.test(String(err)));
  });
});
