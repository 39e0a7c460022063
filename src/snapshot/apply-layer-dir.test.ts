import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import assert from "node:assert/strict";
import { test } from "node:test";
import { pack } from "tar-stream";
import { applyLayer } from "../oci/layer-apply.js";
import { applyLayerDir } from "./apply-layer-dir.js";
import { treeOf } from "./testsuite/snapshot-access.js";

async function layerTar(entries: { name: string; body?: string; type?: "directory" | "file" }[]): Promise<Readable> {
  const p = pack();
  const out = buffer(p);
  for (const e of entries) p.entry({ name: e.name, type: e.type ?? "file", mode: e.type === "directory" ? 0o755 : 0o644 }, e.body ?? "");
  p.finalize();
  return Readable.from([await out]);
}

test("applyLayerDir deletes whiteouts, empties opaque dirs and replaces the rest", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root (whiteout devices, trusted xattrs)");
  const base = await mkdtemp(join(tmpdir(), "gantry-ald-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const [l1, l2, target] = ["l1", "l2", "target"].map((n) => join(base, n));
  for (const d of [l1, l2, target]) await mkdir(d);
  await applyLayer(await layerTar([
    { name: "keep", body: "k" }, { name: "gone", body: "g" }, { name: "opq/", type: "directory" },
    { name: "opq/old", body: "o" }, { name: "file-to-dir", body: "f" }, { name: "dir-to-file/", type: "directory" },
    { name: "dir-to-file/x", body: "x" },
  ]), l1);
  await applyLayer(await layerTar([
    { name: ".wh.gone" }, { name: "opq/", type: "directory" }, { name: "opq/.wh..wh..opq" }, { name: "opq/new", body: "n" },
    { name: "file-to-dir/", type: "directory" }, { name: "file-to-dir/in", body: "i" }, { name: "dir-to-file", body: "now a file" },
    { name: "keep", body: "k2" },
  ]), l2);
  await applyLayerDir(l1, target);
  await applyLayerDir(l2, target);
  assert.deepEqual(await treeOf(target), {
    "dir-to-file": "now a file", "file-to-dir/": "", "file-to-dir/in": "i", "keep": "k2", "opq/": "", "opq/new": "n",
  });
});
