import assert from "node:assert/strict";
import { test } from "node:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { codeOf } from "../util/errors.js";
import { cacheDiskUsage, pruneCache } from "./cache-pruner.js";
import { buildRef, cacheEnv } from "./testing/cache-env.js";

test("a cache mount keeps its files across leases and restarts and shows as exec.cachemount", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const req = { shareKey: "go-build", parent: null, sharing: "shared" as const, description: "cached mount /root/.cache" };
  const a = await env.cache.refs.acquireCacheMount(req);
  await writeFile(join(a.dir, "obj"), "compiled");
  await a.release();
  await env.reopen();
  const b = await env.cache.refs.acquireCacheMount(req);
  assert.equal(b.id, a.id);
  assert.equal(await readFile(join(b.dir, "obj"), "utf8"), "compiled");
  const du = await cacheDiskUsage(env.cache.admin, ["type==exec.cachemount"]);
  assert.deepEqual(du.map((r) => [r.id, r.mutable, r.inUse, r.description]), [[a.id, true, true, "cached mount /root/.cache"]]);
  assert.equal(await pruneCache(env.cache.admin, {}), 0, "in use: not pruned");
  await b.release();
  const removed: string[] = [];
  await pruneCache(env.cache.admin, { filters: ["type==exec.cachemount"] }, (r) => removed.push(r.id));
  assert.deepEqual(removed, [a.id]);
});

test("shared mounts are one dir, private ones get a new cache when busy, locked ones wait", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const refs = env.cache.refs;
  const s1 = await refs.acquireCacheMount({ shareKey: "s", parent: null, sharing: "shared" });
  const s2 = await refs.acquireCacheMount({ shareKey: "s", parent: null, sharing: "shared" });
  assert.equal(s1.id, s2.id);
  assert.equal(s1.dir, s2.dir, "mounted once");
  await s1.release();
  await writeFile(join(s2.dir, "still-mounted"), "");
  await s2.release();

  const p1 = await refs.acquireCacheMount({ shareKey: "p", parent: null, sharing: "private" });
  const p2 = await refs.acquireCacheMount({ shareKey: "p", parent: null, sharing: "private" });
  assert.notEqual(p1.id, p2.id);
  await p1.release();
  const p3 = await refs.acquireCacheMount({ shareKey: "p", parent: null, sharing: "private" });
  assert.equal(p3.id, p1.id, "a free one is reused");
  await Promise.all([p2.release(), p3.release()]);

  const l1 = await refs.acquireCacheMount({ shareKey: "l", parent: null, sharing: "locked" });
  let got = false;
  const l2p = refs.acquireCacheMount({ shareKey: "l", parent: null, sharing: "locked" }).then((l) => ((got = true), l));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got, false, "waits while the first holds it");
  await l1.release();
  const l2 = await l2p;
  assert.equal(l2.id, l1.id);
  const ac = new AbortController();
  const l3 = refs.acquireCacheMount({ shareKey: "l", parent: null, sharing: "locked", signal: ac.signal });
  ac.abort();
  await assert.rejects(l3, (e) => codeOf(e) === "Canceled");
  await l2.release();
});

test("a cache mount from a base starts with its content and keeps the base alive", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const base = await buildRef(env.cache.refs, null, { "seed/file": "seed" });
  const m = await env.cache.refs.acquireCacheMount({ shareKey: `x\0${base.id}`, parent: base, sharing: "shared" });
  await base.release();
  assert.equal(await readFile(join(m.dir, "seed/file"), "utf8"), "seed");
  await m.release();
  await env.reopen();
  const du = await cacheDiskUsage(env.cache.admin, []);
  assert.deepEqual(du.find((r) => r.id === m.id)?.parents, [base.id]);
  assert.ok(du.some((r) => r.id === base.id), "the base survives as the cache's parent");
});
