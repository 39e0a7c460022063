import assert from "node:assert/strict";
import { test } from "node:test";
import { cacheDiskUsage, pruneCache, type UsageInfo } from "./cache-pruner.js";
import { defaultGcPolicy, runGc } from "./gc-policy.js";
import { buildRef, cacheEnv, snapshotNames } from "./testing/cache-env.js";

const MB = "x".repeat(1 << 20);

test("du lists records with sizes; prune removes unused ones, children before parents, and frees what du showed", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const { refs, results, admin } = env.cache;
  const base = await buildRef(refs, null, { big: MB });
  const child = await buildRef(refs, base, { small: "s" });
  const held = await buildRef(refs, null, { h: MB });
  await results.saveResult("child", child, { description: "child step" });
  await results.saveResult("held", held, {});
  await base.release();
  await child.release();
  const du = await cacheDiskUsage(admin, []);
  assert.equal(du.length, 3);
  const byId = new Map(du.map((r) => [r.id, r]));
  assert.ok(byId.get(base.id)!.size >= 1 << 20, "the base holds its 1 MiB file");
  assert.deepEqual(byId.get(child.id)!.parents, [base.id]);
  assert.equal(byId.get(held.id)!.inUse, true);
  assert.equal(byId.get(child.id)!.description, "child step");
  const removed: UsageInfo[] = [];
  const freed = await pruneCache(admin, {}, (r) => removed.push(r));
  assert.deepEqual(removed.map((r) => r.id), [child.id, base.id], "the child first, then the parent it freed");
  assert.equal(freed, byId.get(child.id)!.size + byId.get(base.id)!.size);
  assert.deepEqual(await snapshotNames(env.sn), [held.id], "the record in use stays");
  assert.equal(results.loadResult("child"), undefined);
  await held.release();
});

test("prune honours filters, keepDuration, keepBytes (least recently used first) and all", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const { refs, results, admin } = env.cache;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await buildRef(refs, null, { f: MB + i });
    await results.saveResult(`k${i}`, r, {});
    ids.push(r.id);
    await r.release();
    await new Promise((res) => setTimeout(res, 5));
  }
  const internal = refs.get(ids[3]);
  refs.describe(internal, { recordType: "internal" });
  await internal.release();
  assert.equal((await pruneCache(admin, { filters: ["type==exec.cachemount"] })), 0);
  assert.equal((await pruneCache(admin, { keepDuration: 3600_000 })), 0, "all were used just now");
  // Use k0 again: now k1 is the least recently used.
  const again = results.loadResult("k0");
  await again?.release();
  const sizes = await cacheDiskUsage(admin, []);
  const total = sizes.reduce((n, r) => n + r.size, 0);
  const removed: string[] = [];
  await pruneCache(admin, { keepBytes: total - 1 }, (r) => removed.push(r.id));
  assert.deepEqual(removed, [ids[1]]);
  await pruneCache(admin, {}, (r) => removed.push(r.id));
  assert.deepEqual(removed.slice(1).sort(), [ids[0], ids[2]].sort(), "internal records stay without all");
  await pruneCache(admin, { all: true }, (r) => removed.push(r.id));
  assert.deepEqual(await snapshotNames(env.sn), []);
});

test("the default GC policy keeps the cache under its cap", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const { refs, results, admin } = env.cache;
  for (let i = 0; i < 6; i++) {
    const r = await buildRef(refs, null, { f: MB + i });
    await results.saveResult(`k${i}`, r, {});
    await r.release();
  }
  const cap = 3.5 * (1 << 20);
  const removed = await runGc(admin, defaultGcPolicy(cap));
  assert.ok(removed.length >= 2, `removed ${removed.length}`);
  const left = (await cacheDiskUsage(admin, [])).reduce((n, r) => n + r.size, 0);
  assert.ok(left <= cap, `${left} bytes left, cap ${cap}`);
});
