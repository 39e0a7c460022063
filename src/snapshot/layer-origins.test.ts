import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Digest } from "../util/digest.js";
import { LayerOrigins, type LayerOrigin } from "./layer-origins.js";

let root: string;
const origin: LayerOrigin = {
  mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  digest: `sha256:${"a".repeat(64)}` as Digest,
  size: 42,
  diffId: `sha256:${"b".repeat(64)}` as Digest,
};

before(async () => {
  root = await mkdtemp(join(tmpdir(), "layer-origins-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("a recorded origin is found by a new instance; the first record wins", async () => {
  const layer = join(root, "layer1");
  await mkdir(layer);
  await new LayerOrigins(join(root, "memo")).record(layer, origin);
  await new LayerOrigins(join(root, "memo")).record(layer, { ...origin, size: 7 });
  assert.deepEqual(await new LayerOrigins(join(root, "memo")).lookup(layer), origin);
});

test("unknown, missing and re-created directories have no origin", async () => {
  const origins = new LayerOrigins(join(root, "memo2"));
  const layer = join(root, "layer2");
  assert.equal(await origins.lookup(layer), undefined);
  await mkdir(layer);
  assert.equal(await origins.lookup(layer), undefined);
  await origins.record(layer, origin);
  await rm(layer, { recursive: true });
  await mkdir(layer);
  await writeFile(join(layer, "other"), "content");
  assert.equal(await origins.lookup(layer), undefined, "a new directory at the same path is another layer");
});
