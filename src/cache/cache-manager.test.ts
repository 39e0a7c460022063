import assert from "node:assert/strict";
import { test } from "node:test";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { codeOf } from "../util/errors.js";
import { treeOf } from "../snapshot/testsuite/snapshot-access.js";
import { buildRef, cacheEnv, snapshotNames } from "./testing/cache-env.js";
import { SqliteResultStorage } from "./sqlite-result-storage.js";
import type { ImmutableRef } from "./ref-manager.js";

test("saved results, pins and their parents survive a restart; unsaved refs do not", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const { refs, results } = env.cache;
  const base = await buildRef(refs, null, { a: "1" });
  const child = await buildRef(refs, base, { b: "2" });
  const pinned = await buildRef(refs, null, { p: "p" });
  const loose = await buildRef(refs, null, { l: "l" });
  await results.saveResult("key-child", child, { description: "RUN make" });
  await results.saveResult("key-scratch", null, {});
  await refs.setNamed("pin", pinned);
  for (const r of [base, child, pinned]) await r.release();
  // `loose` is still held when the process "dies": a row without anything retaining it.
  void loose;
  await env.reopen();
  const names = await snapshotNames(env.sn);
  assert.deepEqual(names, [base.id, child.id, pinned.id].sort(), "the unsaved ref is gone, the rest stays");
  const loaded = env.cache.results.loadResult("key-child");
  assert.ok(loaded);
  const view = await env.cache.refs.mountReadonly(loaded);
  assert.deepEqual(await treeOf(view.dir), { a: "1", b: "2" });
  await view.release();
  assert.equal(env.cache.results.loadResult("key-scratch"), null);
  assert.equal(env.cache.results.loadResult("nope"), undefined);
  const p = env.cache.refs.named("pin");
  assert.equal(p?.id, pinned.id);
  const rows = env.cache.admin.records();
  assert.equal(rows.find((r) => r.id === child.id)?.description, "RUN make");
  assert.deepEqual(rows.find((r) => r.id === child.id)?.deps, [base.id]);
  await p?.release();
  await loaded.release();
});

test("repair drops a committed snapshot never recorded and a row whose snapshot is gone", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const { refs, results } = env.cache;
  const kept = await buildRef(refs, null, { k: "k" });
  const lost = await buildRef(refs, null, { x: "x" });
  const lostChild = await buildRef(refs, lost, { y: "y" });
  await results.saveResult("kept", kept, {});
  await results.saveResult("lost-child", lostChild, {});
  for (const r of [kept, lost, lostChild]) await r.release();
  // A kill after the snapshot commit but before the row: an orphan committed snapshot and an active one.
  await env.sn.prepare("orphan-active");
  await env.sn.commit("orphan-committed", "orphan-active");
  await env.sn.prepare("m-killed-build", "orphan-committed");
  env.cache.close();
  await env.sn.close();
  // And a row whose snapshot disappeared (as if removed after its row was deleted, then the delete was lost).
  const { openOverlaySnapshotter } = await import("../snapshot/overlay-snapshotter.js");
  const sn = await openOverlaySnapshotter(join(env.root, "snapshots"));
  await sn.remove(lostChild.id);
  await sn.close();
  await env.reopen();
  // `lost` was kept only through its child's result: it goes with the child.
  assert.deepEqual(await snapshotNames(env.sn), [kept.id], "only the saved, intact ref stays");
  assert.equal(env.cache.results.loadResult("lost-child"), undefined);
  const k = env.cache.results.loadResult("kept");
  assert.equal(k?.id, kept.id);
  await k?.release();
});

test("a result replaced under its key goes once nothing holds it; a held one stays until released", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const { refs, results } = env.cache;
  const a = await buildRef(refs, null, { v: "a" });
  const b = await buildRef(refs, null, { v: "b" });
  await results.saveResult("k", a, {});
  await results.saveResult("k", b, {});
  assert.ok((await snapshotNames(env.sn)).includes(a.id), "a is still held by its handle");
  await a.release();
  await b.release();
  assert.deepEqual(await snapshotNames(env.sn), [b.id]);
  assert.throws(() => refs.get(a.id), (e) => codeOf(e) === "NotFound");
});

test("SqliteResultStorage wraps loads and saves scratch", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  interface Res { ref: ImmutableRef | null }
  const storage = new SqliteResultStorage<Res>(env.cache.results, { refOf: (r) => r.ref, wrap: (ref) => ({ ref }) });
  const r = await buildRef(env.cache.refs, null, { f: "1" });
  await storage.save("k1", { ref: r }, { vertexName: "COPY . ." });
  await storage.save("k2", { ref: null }, { vertexName: "scratch" });
  await r.release();
  const got = await storage.load("k1");
  assert.equal(got?.ref?.id, r.id);
  assert.deepEqual(await storage.load("k2"), { ref: null });
  assert.equal(await storage.load("k3"), undefined);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(storage.load("k1", ac.signal), (e) => codeOf(e) === "Canceled");
  await got?.ref?.release();
  const db = await readFile(join(env.root, "metadata.db"));
  assert.ok(db.length > 0);
});
