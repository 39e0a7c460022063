import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryResultStorage } from "./memory-result-storage.js";
import { RefTracker, type FakeResult } from "./testing/fake-result.js";
import type { CacheKey } from "./types.js";

const key = (s: string) => s as CacheKey;
const info = { vertexName: "v" };

test("keeps one reference per result however many keys use it, and releases it with the last key", async () => {
  const refs = new RefTracker();
  const storage = new MemoryResultStorage<FakeResult>();
  const r = refs.mint("x");
  await storage.save(key("k1"), r, info);
  await storage.save(key("k2"), r, info);
  await storage.save(key("k2"), r, info);
  await r.release();
  assert.equal(storage.heldResults, 1);
  assert.equal(refs.liveOf(r.id), 1);
  const loaded = await storage.load(key("k2"));
  assert.equal(loaded?.value, "x");
  assert.equal(refs.liveOf(r.id), 2, "load hands out a new reference");
  await loaded?.release();
  assert.equal(await storage.delete(key("k1")), true);
  assert.equal(refs.liveOf(r.id), 1);
  assert.equal(await storage.delete(key("k2")), true);
  assert.equal(await storage.delete(key("k2")), false);
  assert.equal(refs.live, 0);
  assert.equal(await storage.load(key("k1")), undefined);
});

test("saving another result under a key replaces and releases the old one", async () => {
  const refs = new RefTracker();
  const storage = new MemoryResultStorage<FakeResult>();
  const a = refs.mint("a");
  const b = refs.mint("b");
  await storage.save(key("k"), a, info);
  await storage.save(key("k"), b, info);
  await a.release();
  await b.release();
  assert.equal(refs.liveOf(a.id), 0);
  assert.equal((await storage.load(key("k")))?.value, "b");
  assert.deepEqual(storage.keys(), ["k"]);
  await storage.close();
  assert.equal(refs.liveOf(b.id), 1, "only the loaded reference is left");
});

test("load honours an aborted signal; close releases everything and ignores later saves", async () => {
  const refs = new RefTracker();
  const storage = new MemoryResultStorage<FakeResult>();
  const r = refs.mint("x");
  await storage.save(key("k"), r, info);
  await assert.rejects(storage.load(key("k"), AbortSignal.abort()), { code: "Canceled" });
  await storage.close();
  await storage.save(key("k2"), r, info);
  await r.release();
  assert.equal(refs.live, 0);
  assert.equal(storage.heldResults, 0);
});
