import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { openLocalContentStore, type LocalContentStore } from "../content/local-content-store.js";
import { sha256 } from "../util/digest.js";
import { LABEL_UNCOMPRESSED } from "./keys.js";
import { LayerOrigins } from "../snapshot/layer-origins.js";
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

test("a layer unpacked from a pulled blob exports as that blob when the compression matches", async () => {
  const memoDir = join(root, "origin-memo");
  const layer = join(root, "pulled-layer");
  await mkdir(layer);
  await writeFile(join(layer, "f"), "from the base image");
  // The "pulled" blob: any gzip blob in the store; its bytes need not be what tarring the dir would give.
  const pulledTar = Buffer.alloc(2048);
  const pulled = await store.putBlob(gzipSync(pulledTar));
  const pulledSize = (await store.info(pulled)).size;
  await new LayerOrigins(memoDir).record(layer, {
    mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", digest: pulled, size: pulledSize, diffId: sha256(pulledTar),
  });
  const cache = new LayerBlobCache(store, { memoDir });
  const [reused] = await cache.blobs([{ path: layer }], { compression: "gzip", level: 9 });
  assert.deepEqual(reused, { digest: pulled, size: pulledSize, diffId: sha256(pulledTar), compression: "gzip", empty: false });
  for (const opts of [{ forceCompression: true }, { sourceDateEpoch: 0 }]) {
    const [made] = await cache.blobs([{ path: layer }], { compression: "gzip", ...opts });
    assert.notEqual(made.digest, pulled, JSON.stringify(opts));
    assert.equal(sha256(gunzipSync(await store.readBlob(made.digest))), made.diffId);
  }
  const [zstd] = await cache.blobs([{ path: layer }], { compression: "zstd" });
  assert.notEqual(zstd.digest, pulled, "another compression converts");
  // Once the pulled blob is gone (garbage-collected), the layer is tarred again.
  await store.delete(pulled);
  const [remade] = await new LayerBlobCache(store, { memoDir }).blobs([{ path: layer }], { compression: "gzip" });
  assert.notEqual(remade.digest, pulled);
});

test("several layers made together read their xattrs in one batch and match layers made alone", async () => {
  const dirs = ["x1", "x2", "x3"].map((n) => join(root, n));
  for (const [i, d] of dirs.entries()) {
    await mkdir(join(d, "sub"), { recursive: true });
    await writeFile(join(d, "sub/f"), `layer ${i}`);
  }
  execFileSync("setfattr", ["-n", "user.k", "-v", "v", join(dirs[1], "sub/f")]);
  const together = await new LayerBlobCache(store).blobs(dirs.map((path) => ({ path })), { compression: "gzip" });
  const alone = [];
  for (const path of dirs) alone.push(...(await new LayerBlobCache(store).blobs([{ path }], { compression: "gzip" })));
  assert.deepEqual(together, alone);
  assert.ok(gunzipSync(await store.readBlob(together[1].digest)).includes("SCHILY.xattr.user.k=v"));
});
