import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, test } from "node:test";
import { sha256, type Digest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import { writeImageLayoutDir, writeImageLayoutTar, type BlobSource } from "./image-layout.js";
import { MediaType } from "./media-types.js";
import type { Descriptor } from "./types.js";

const blobs = new Map<string, Buffer>();
function put(data: string | Buffer, mediaType: string): Descriptor {
  const b = Buffer.from(data);
  const digest = sha256(b);
  blobs.set(digest, b);
  return { mediaType, digest, size: b.length };
}
const source: BlobSource = {
  async readBlob(d: Digest) {
    const b = blobs.get(d);
    if (!b) throw new GantryError("NotFound", `no blob ${d}`);
    return b;
  },
  async reader(d: Digest) {
    return Readable.from([await this.readBlob(d)]);
  },
};

let root: string;
let manifest: Descriptor;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "image-layout-"));
  const layer = put(Buffer.alloc(3000, 1), MediaType.ociLayer);
  const config = put('{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}', MediaType.ociConfig);
  manifest = put(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] }), MediaType.ociManifest);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("the tarball has sorted entries and every reachable blob", async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const named = { ...manifest, annotations: { "io.containerd.image.name": "docker.io/library/x:1" } };
  await writeImageLayoutTar(out, { provider: source, manifests: [named], dockerCompat: true });
  const names = execFileSync("tar", ["-t"], { input: Buffer.concat(chunks) }).toString().trim().split("\n");
  assert.deepEqual(names.slice(0, 2), ["blobs/", "blobs/sha256/"]);
  assert.equal(names.filter((n) => n.startsWith("blobs/sha256/") && n.length > 20).length, 3);
  assert.deepEqual(names.slice(5), ["index.json", "manifest.json", "oci-layout", "repositories"]);
});

test("a missing blob fails the tarball and destroys the output", async () => {
  const bad = { ...manifest, digest: sha256("nope") };
  const out = new PassThrough();
  out.resume();
  await assert.rejects(writeImageLayoutTar(out, { provider: source, manifests: [bad] }), /no blob/);
  assert.ok(out.destroyed);
});

test("the directory form merges index.json", async () => {
  const dir = join(root, "layout");
  await writeImageLayoutDir(dir, { provider: source, manifests: [manifest] });
  await writeImageLayoutDir(dir, { provider: source, manifests: [manifest] });
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: Descriptor[] };
  assert.equal(index.manifests.length, 1);
  assert.equal((await readFile(join(dir, "blobs/sha256", manifest.digest.slice(7)))).length, manifest.size);
});
