import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { openLocalContentStore, type LocalContentStore } from "../content/local-content-store.js";
import { sha256 } from "../util/digest.js";
import { LABEL_UNCOMPRESSED } from "./keys.js";
import { LayerBlobCache } from "./layer-blobs.js";

let root: string;
let store: LocalContentStore;
let l1: string;
let l2: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "layer-blobs-"));
  store = await openLocalContentStore(join(root, "content"));
  l1 = join(root, "l1");
  l2 = join(root, "l2");
  await mkdir(join(l1, "etc"), { recursive: true });
  await writeFile(join(l1, "etc/a"), "a");
  await mkdir(l2);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("makes gzip blobs with diffIDs, labels them and keeps empty layers by default", async () => {
  const cache = new LayerBlobCache(store);
  const progress: number[] = [];
  const blobs = await cache.blobs([{ path: l1 }, { path: l2 }], { compression: "gzip", onProgress: (d) => progress.push(d) });
  assert.equal(blobs.length, 2);
  assert.deepEqual(progress, [1, 2]);
  const raw = await store.readBlob(blobs[0].digest);
  const tar = gunzipSync(raw);
  assert.equal(sha256(tar), blobs[0].diffId);
  assert.equal(blobs[0].size, raw.length);
  assert.equal(blobs[0].empty, false);
  assert.equal(blobs[1].empty, true);
  assert.equal(gunzipSync(await store.readBlob(blobs[1].digest)).length, 1024);
  assert.equal((await store.info(blobs[0].digest)).labels[LABEL_UNCOMPRESSED], blobs[0].diffId);
  const skipped = await cache.blobs([{ path: l1 }, { path: l2 }], { compression: "gzip", skipEmpty: true });
  assert.deepEqual(skipped.map((b) => b.digest), [blobs[0].digest]);
});

test("memoises per directory and compression, and remakes a blob deleted from the store", async () => {
  const cache = new LayerBlobCache(store);
  const [a] = await cache.blobs([{ path: l1 }], { compression: "uncompressed" });
  assert.equal(a.digest, a.diffId);
  const [z] = await cache.blobs([{ path: l1 }], { compression: "zstd" });
  assert.notEqual(z.digest, a.digest);
  assert.equal(z.diffId, a.diffId);
  // Change the directory: a memoised answer is returned (layer dirs are immutable once committed).
  await writeFile(join(l1, "etc/b"), "b");
  const [again] = await cache.blobs([{ path: l1 }], { compression: "uncompressed" });
  assert.equal(again.digest, a.digest);
  await store.delete(a.digest);
  const [remade] = await cache.blobs([{ path: l1 }], { compression: "uncompressed" });
  assert.notEqual(remade.digest, a.digest);
  await rm(join(l1, "etc/b"));
});

test("a failing layer rejects with an error naming it", async () => {
  const cache = new LayerBlobCache(store);
  await assert.rejects(cache.blobs([{ path: join(root, "missing") }], { compression: "gzip" }), /missing/);
});

test("a memo dir lets a new cache reuse blobs made by an earlier one, and not for a changed directory", async () => {
  const memoDir = join(root, "memo");
  const layer = join(root, "memo-layer");
  await mkdir(layer);
  await writeFile(join(layer, "f"), "one");
  const first = await new LayerBlobCache(store, { memoDir }).blobs([{ path: layer }], { compression: "gzip" });
  let ingests = 0;
  const counting = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "ingest") ingests++;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const second = await new LayerBlobCache(counting, { memoDir }).blobs([{ path: layer }], { compression: "gzip" });
  assert.deepEqual(second, first);
  assert.equal(ingests, 0, "the remembered blob is reused without tarring again");
  // A directory that changed (new ctime) is not served from the memo.
  await writeFile(join(layer, "g"), "two");
  const third = await new LayerBlobCache(counting, { memoDir }).blobs([{ path: layer }], { compression: "gzip" });
  assert.notEqual(third[0].diffId, first[0].diffId);
  assert.equal(ingests, 1);
});
