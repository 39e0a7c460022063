import { mkdtemp, rm } from "node:fs/promises";
import assert from "node:assert/strict";
import { test } from "node:test";
import { codeOf } from "../util/errors.js";
import { openOverlaySnapshotter } from "./overlay-snapshotter.js";
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
