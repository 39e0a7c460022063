import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import assert from "node:assert/strict";
import { test } from "node:test";
import { codeOf } from "../util/errors.js";
import { openOverlaySnapshotter } from "./overlay-snapshotter.js";
import { assertNoMountsUnder, treeOf, withMounted } from "./testsuite/snapshot-access.js";
import { runSnapshotterSuite } from "./testsuite/snapshotter-suite.js";

runSnapshotterSuite("OverlaySnapshotter", (root) => openOverlaySnapshotter(root));

test("a chain too long for the mount options is ResourceExhausted, not a kernel error", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root");
  const root = await mkdtemp("/tmp/gs-");
  t.after(() => rm(root, { recursive: true, force: true }));
  const sn = await openOverlaySnapshotter(root);
  let parent: string | undefined;
  const perLayer = `${root}/snapshots/100/fs:`.length;
  for (let i = 0; i < Math.ceil(4096 / perLayer) + 1; i++) {
    await sn.prepare(`k${i}`, parent);
    await sn.commit(`c${i}`, `k${i}`);
    parent = `c${i}`;
  }
  await assert.rejects(sn.view("deep", parent), (e) => codeOf(e) === "ResourceExhausted");
  await assert.rejects(sn.stat("deep"), (e) => codeOf(e) === "NotFound");
  await sn.close();
});

test("readonlyMounts shows a committed snapshot without creating one; commit drops the work dir", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root");
  const root = await mkdtemp("/tmp/gs-");
  t.after(() => rm(root, { recursive: true, force: true }));
  const sn = await openOverlaySnapshotter(root);
  const fill = async (key: string, parent: string | undefined, name: string, file: string): Promise<void> => {
    await withMounted(await sn.prepare(key, parent), (dir) => writeFile(join(dir, file), name));
    await sn.commit(name, key);
  };
  await fill("k1", undefined, "one", "a");
  await fill("k2", "one", "two", "b");
  const dirs = async (): Promise<string[]> => (await readdir(join(root, "snapshots"))).sort();
  const before = await dirs();
  assert.deepEqual(await withMounted(await sn.readonlyMounts("two"), (dir) => treeOf(dir)), { a: "one", b: "two" });
  assert.deepEqual(await withMounted(await sn.readonlyMounts("one"), (dir) => treeOf(dir)), { a: "one" });
  assert.deepEqual(await dirs(), before, "no snapshot directory was made");
  for (const id of before) assert.deepEqual((await readdir(join(root, "snapshots", id))).sort(), ["fs", "record.json"]);
  await assert.rejects(sn.readonlyMounts("nope"), (e) => codeOf(e) === "NotFound");
  await sn.prepare("active", "two");
  await assert.rejects(sn.readonlyMounts("active"), (e) => codeOf(e) === "FailedPrecondition");
  await assert.rejects(sn.commit("again", "one"), (e) => codeOf(e) === "FailedPrecondition");
  await sn.close();
  await assertNoMountsUnder(root);
});
