import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { BuildHistoryEventType, BuildHistoryRecordSchema, type BuildHistoryEvent } from "../gen/moby/buildkit/v1/control_pb.js";
import { openLocalContentStore, type LocalContentStore } from "../content/local-content-store.js";
import { GantryError, codeOf } from "../util/errors.js";
import { parseDigest } from "../util/digest.js";
import { openBuildHistory, type BuildHistory, type HistoryRetention } from "./build-history.js";
import { openBuildHistoryStore } from "./build-history-store.js";

interface Bed {
  root: string;
  content: LocalContentStore;
  open(retention?: Partial<HistoryRetention>): Promise<BuildHistory>;
}

async function withBed(fn: (bed: Bed) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "gantry-history-"));
  const content = await openLocalContentStore(join(root, "content"));
  const opened: BuildHistory[] = [];
  try {
    await fn({
      root, content,
      open: async (retention) => {
        const h = await openBuildHistory(root, content, retention);
        opened.push(h);
        return h;
      },
    });
  } finally {
    for (const h of opened) await h.close().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const summary = (events: BuildHistoryEvent[]): string[] => events.map((e) => `${BuildHistoryEventType[e.type]} ${e.record?.Ref}`);

async function runBuild(h: BuildHistory, ref: string, end: { error?: unknown; exporterResponse?: Record<string, string> } = {}): Promise<void> {
  const rec = h.start({ ref, frontend: "dockerfile.v0", frontendAttrs: { filename: "Dockerfile" }, exporters: [{ type: "image", attrs: { name: "x" } }] });
  const t = new Date();
  rec.sink({ type: "vertex", digest: `sha256:${ref}-1`, inputs: [], name: `step one of ${ref}`, started: t, completed: t, cached: true });
  rec.sink({ type: "vertex", digest: `sha256:${ref}-2`, inputs: [], name: `step two of ${ref}`, started: t, ...(end.error ? { error: "failed" } : { completed: t }) });
  await rec.finish({ exporterResponse: end.exporterResponse, error: end.error });
}

test("a completed build's record holds the request, outcome, step counts and a logs blob", async () => {
  await withBed(async (bed) => {
    const h = await bed.open();
    const descriptor = Buffer.from(JSON.stringify({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"a".repeat(64)}`, size: 123 })).toString("base64");
    await runBuild(h, "ok1", { exporterResponse: { "containerimage.digest": `sha256:${"a".repeat(64)}`, "containerimage.descriptor": descriptor } });
    await runBuild(h, "bad1", { error: new GantryError("InvalidArgument", "Dockerfile:3: unknown instruction FOO") });
    const events = await collect(h.listen({ earlyExit: true }));
    assert.deepEqual(summary(events), ["COMPLETE ok1", "COMPLETE bad1"]);
    const [ok, bad] = events.map((e) => e.record!);
    assert.equal(ok.Frontend, "dockerfile.v0");
    assert.deepEqual(ok.FrontendAttrs, { filename: "Dockerfile" });
    assert.deepEqual(ok.Exporters.map((e) => [e.Type, e.Attrs]), [["image", { name: "x" }]]);
    assert.equal(ok.error, undefined);
    assert.equal(ok.ExporterResponse["containerimage.digest"], `sha256:${"a".repeat(64)}`);
    assert.equal(ok.Result?.ResultDeprecated?.size, 123n);
    assert.equal(ok.Result?.Results["0"]?.digest, `sha256:${"a".repeat(64)}`);
    assert.deepEqual([ok.numTotalSteps, ok.numCachedSteps, ok.numCompletedSteps], [2, 1, 2]);
    assert.deepEqual([bad.numTotalSteps, bad.numCompletedSteps], [2, 1]);
    assert.ok(ok.CreatedAt && ok.CompletedAt);
    assert.equal(bad.error?.code, 3);
    assert.match(bad.error?.message ?? "", /unknown instruction FOO/);
    assert.equal(bad.externalError?.mediaType, "application/vnd.googeapis.google.rpc.status+proto");
    assert.equal(ok.logs?.mediaType, "application/vnd.buildkit.status.v0");
    const names: string[] = [];
    for await (const m of h.logs("ok1")) names.push(...m.vertexes.map((v) => v.name));
    assert.deepEqual([...new Set(names)], ["step one of ok1", "step two of ok1"]);
  });
});

test("listeners see running builds as STARTED, then live STARTED, COMPLETE and DELETED events; Ref filters", async () => {
  await withBed(async (bed) => {
    const h = await bed.open();
    await runBuild(h, "done");
    const running = h.start({ ref: "running", frontend: "", frontendAttrs: {}, exporters: [] });
    assert.deepEqual(summary(await collect(h.listen({ earlyExit: true }))), ["STARTED running", "COMPLETE done"]);
    assert.deepEqual(summary(await collect(h.listen({ earlyExit: true, activeOnly: true }))), ["STARTED running"]);
    assert.deepEqual(summary(await collect(h.listen({ earlyExit: true, ref: "done" }))), ["COMPLETE done"]);
    await assert.rejects(h.delete("running"), (err: unknown) => codeOf(err) === "FailedPrecondition");

    const stop = new AbortController();
    const seen: BuildHistoryEvent[] = [];
    const listening = (async () => {
      for await (const e of h.listen({}, { signal: stop.signal })) {
        seen.push(e);
        if (e.type === BuildHistoryEventType.DELETED) stop.abort();
      }
    })();
    const filtered = collect(h.listen({ ref: "third" }, { signal: stop.signal }));
    await running.finish({ exporterResponse: {} });
    await runBuild(h, "third");
    await h.delete("done");
    await listening;
    assert.deepEqual(summary(seen), ["STARTED running", "COMPLETE done", "COMPLETE running", "STARTED third", "COMPLETE third", "DELETED done"]);
    assert.deepEqual(summary(await filtered), ["STARTED third", "COMPLETE third"]);
  });
});

test("pin and unpin bump Generation; delete removes the record and its blobs; unknown refs", async () => {
  await withBed(async (bed) => {
    const h = await bed.open();
    await runBuild(h, "p1", { error: new Error("boom") });
    const rec = h.record("p1")!;
    await h.setPinned("p1", true);
    assert.equal(h.record("p1")?.pinned, true);
    assert.equal(h.record("p1")?.Generation, 1);
    await h.setPinned("p1", true); // no change, no new generation
    assert.equal(h.record("p1")?.Generation, 1);
    await h.setPinned("p1", false);
    assert.deepEqual([h.record("p1")?.pinned, h.record("p1")?.Generation], [false, 2]);
    await assert.rejects(h.setPinned("nope", true), (err: unknown) => codeOf(err) === "NotFound");
    await h.delete("nope"); // upstream: deleting an unknown record is no error
    await h.delete("p1");
    assert.equal(h.record("p1"), undefined);
    for (const d of [rec.logs!.digest, rec.externalError!.digest]) {
      await assert.rejects(bed.content.info(parseDigest(d)), (err: unknown) => codeOf(err) === "NotFound");
    }
    await assert.rejects(collect(h.logs("p1")), (err: unknown) => codeOf(err) === "NotFound");
  });
});

test("a delete while a listener reads the record waits for the listener", async () => {
  await withBed(async (bed) => {
    const h = await bed.open();
    await runBuild(h, "held");
    const it = h.logs("held")[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await h.delete("held");
    assert.equal(h.record("held"), undefined); // hidden at once
    assert.deepEqual(summary(await collect(h.listen({ earlyExit: true }))), []);
    const store = openBuildHistoryStore(bed.root);
    try {
      assert.ok(store.get("held"), "the row stays while its logs are read");
      await it.return?.(undefined);
      assert.equal(store.get("held"), undefined);
    } finally {
      store.close();
    }
  });
});

test("records survive a reopen; retention removes unpinned records past both maxEntries and maxAge", async () => {
  await withBed(async (bed) => {
    const first = await bed.open();
    await runBuild(first, "kept");
    await first.close();
    const store = openBuildHistoryStore(bed.root);
    const day = 24 * 3600 * 1000;
    // Five old records (one pinned) and two fresh ones.
    for (let i = 0; i < 5; i++) {
      store.put(create(BuildHistoryRecordSchema, { Ref: `old${i}`, CompletedAt: timestampFromMs(Date.now() - 3 * day - i * 1000), pinned: i === 4 }));
    }
    store.put(create(BuildHistoryRecordSchema, { Ref: "fresh", CompletedAt: timestampFromMs(Date.now() - 1000) }));
    store.close();
    const h = await bed.open({ maxEntries: 3 });
    // Newest unpinned: kept, fresh, old0 stay (maxEntries 3); old1..old3 are older than 48 h and go; old4 is pinned.
    const refs = (await collect(h.listen({ earlyExit: true }))).map((e) => e.record!.Ref).sort();
    assert.deepEqual(refs, ["fresh", "kept", "old0", "old4"]);
    assert.equal(h.record("kept")?.numTotalSteps, 2);
    // Past maxEntries but young: nothing goes.
    const young = await bed.open({ maxEntries: 1, maxAgeMs: 10 * day });
    assert.equal(await young.gc(), 0);
  });
});

test("a record whose logs blob is gone is dropped when the history opens", async () => {
  await withBed(async (bed) => {
    const h = await bed.open();
    await runBuild(h, "orphan");
    await runBuild(h, "whole");
    const logs = h.record("orphan")!.logs!.digest;
    await h.close();
    await bed.content.delete(parseDigest(logs));
    const again = await bed.open();
    await again.ready();
    assert.equal(again.record("orphan"), undefined);
    assert.ok(again.record("whole"));
  });
});
