// Local sync speed, measured against `cp -a` on the same machine so the bound holds on slow and fast disks;
// a sync after one change must only compare and copy that file, so it is cheaper than the first copy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syncLocalTree } from "./local-tree-sync.js";

const DIRS = 40;
const FILES_PER_DIR = 100;

test(`syncing ${DIRS * FILES_PER_DIR} files is in cp -a's class, and a one-change sync copies one file, faster`, async (t) => {
  const root = mkdtempSync(join(tmpdir(), "sync-speed-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = join(root, "src");
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `file ${d} ${f}\n`.repeat(30));
  }
  let t0 = performance.now();
  execFileSync("cp", ["-a", src, join(root, "by-cp")]);
  const cpMs = performance.now() - t0;
  t0 = performance.now();
  const first = await syncLocalTree(src, join(root, "dest"), { signal: new AbortController().signal });
  const coldMs = performance.now() - t0;
  assert.equal(first.files, DIRS * FILES_PER_DIR);
  writeFileSync(join(src, "d7/f33"), "changed\n");
  t0 = performance.now();
  const again = await syncLocalTree(src, join(root, "dest"), {});
  const warmMs = performance.now() - t0;
  assert.equal(again.files, 1, "only the changed file is copied");
  t.diagnostic(`cold sync ${coldMs.toFixed(0)} ms, one-change sync ${warmMs.toFixed(0)} ms, cp -a ${cpMs.toFixed(0)} ms`);
  // Generous: this box's disk speed swings a lot; a sequential or quadratic walk still fails it.
  assert.ok(coldMs < 5 * cpMs + 5000, `cold sync took ${coldMs.toFixed(0)} ms, cp -a ${cpMs.toFixed(0)} ms`);
  assert.ok(warmMs < coldMs, `one-change sync took ${warmMs.toFixed(0)} ms, the first ${coldMs.toFixed(0)} ms`);
});
