import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, test } from "node:test";
import { openLocalContentStore, type LocalContentStore } from "../content/local-content-store.js";
import { MediaType } from "../oci/media-types.js";
import type { Descriptor, Index, Manifest } from "../oci/types.js";
import { sha256, type Digest } from "../util/digest.js";
import { isInvalidArgument } from "../util/errors.js";
import { createDockerExporter, createOciExporter } from "./oci-exporter.js";
import { testExportSource } from "./testing/overlay-export-source.js";

let root: string;
let store: LocalContentStore;
let source: ReturnType<typeof testExportSource>;
const now = (): Date => new Date("2024-01-02T03:04:05.678Z");

before(async () => {
  root = await mkdtemp(join(tmpdir(), "oci-exporter-"));
  store = await openLocalContentStore(join(root, "content"));
  await mkdir(join(root, "l1/bin"), { recursive: true });
  await writeFile(join(root, "l1/bin/hello"), "hello\n", { mode: 0o755 });
  await mkdir(join(root, "l2"));
  await writeFile(join(root, "l2/data"), "data\n");
  source = testExportSource({ layers: [{ path: join(root, "l1") }, { path: join(root, "l2"), description: "COPY data" }], rootfs: root });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function unpack(tarFile: string): Promise<string> {
  const dir = await mkdtemp(join(root, "x-"));
  execFileSync("tar", ["-xf", tarFile, "-C", dir]);
  return dir;
}

async function blob<T>(dir: string, d: Descriptor): Promise<T> {
  const raw = await readFile(join(dir, "blobs/sha256", d.digest.slice(7)));
  assert.equal(sha256(raw), d.digest);
  assert.equal(raw.length, d.size);
  return JSON.parse(raw.toString()) as T;
}

test("oci tarball: layout, names, response keys", async () => {
  const dest = join(root, "out.tar");
  const inst = await createOciExporter({ store, now }).resolve({ name: "example/app:1", dest });
  assert.equal(inst.name, "exporting to oci image format");
  const { response } = await inst.export(source);
  const dir = await unpack(dest);
  assert.deepEqual((await readdir(dir)).sort(), ["blobs", "index.json", "oci-layout"]);
  assert.deepEqual(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as Index;
  assert.equal(index.manifests.length, 1);
  const entry = index.manifests[0];
  assert.equal(entry.mediaType, MediaType.ociManifest);
  assert.deepEqual(entry.annotations, {
    "io.containerd.image.name": "docker.io/example/app:1",
    "org.opencontainers.image.created": "2024-01-02T03:04:05Z",
    "org.opencontainers.image.ref.name": "1",
  });
  assert.deepEqual(entry.platform, { architecture: "amd64", os: "linux" });
  const manifest = await blob<Manifest>(dir, entry);
  assert.equal(manifest.layers.length, 2);
  assert.ok(manifest.layers.every((l) => l.mediaType === MediaType.ociLayerGzip));
  const config = await blob<{ rootfs: { diff_ids: Digest[] }; history: Array<{ created_by: string }> }>(dir, manifest.config);
  assert.equal(config.rootfs.diff_ids.length, 2);
  assert.equal(config.history[1].created_by, "COPY data");
  assert.equal(response["containerimage.digest"], entry.digest);
  assert.equal(response["containerimage.config.digest"], manifest.config.digest);
  assert.equal(response["image.name"], "docker.io/example/app:1");
  const desc = JSON.parse(Buffer.from(response["containerimage.descriptor"], "base64").toString()) as Descriptor;
  assert.equal(desc.digest, entry.digest);
  assert.equal(desc.annotations?.["org.opencontainers.image.created"], "2024-01-02T03:04:05Z");
  for (const l of manifest.layers) await readFile(join(dir, "blobs/sha256", l.digest.slice(7)));
});

test("the same export twice gives the same digests", async () => {
  const a = await (await createOciExporter({ store, now }).resolve({ dest: join(root, "a.tar") })).export(source);
  const b = await (await createOciExporter({ store, now }).resolve({ dest: join(root, "b.tar") })).export(source);
  assert.equal(a.response["containerimage.digest"], b.response["containerimage.digest"]);
  assert.equal(a.response["image.name"], undefined);
});

test("docker tarball: Docker media types, manifest.json and repositories", async () => {
  const dest = join(root, "docker.tar");
  await (await createDockerExporter({ store, now }).resolve({ name: "app:v2", dest })).export(source);
  const dir = await unpack(dest);
  const records = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
  assert.equal(records.length, 1);
  assert.deepEqual(records[0].RepoTags, ["app:v2"]);
  assert.equal(records[0].Layers.length, 2);
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as Index;
  const manifest = await blob<Manifest>(dir, index.manifests[0]);
  assert.equal(manifest.mediaType, MediaType.dockerManifest);
  assert.equal(manifest.config.mediaType, MediaType.dockerConfig);
  assert.ok(manifest.layers.every((l) => l.mediaType === MediaType.dockerLayerGzip));
  assert.equal(records[0].Config, `blobs/sha256/${manifest.config.digest.slice(7)}`);
  const repos = JSON.parse(await readFile(join(dir, "repositories"), "utf8")) as Record<string, Record<string, string>>;
  assert.deepEqual(Object.keys(repos), ["app"]);
});

test("tar=false writes a layout directory and replaces an entry of the same name", async () => {
  const dest = join(root, "layout");
  const exp = createOciExporter({ store, now });
  await (await exp.resolve({ name: "a:1", dest, tar: "false" })).export(source);
  await (await exp.resolve({ name: "b:1", dest, tar: "false", compression: "uncompressed" })).export(source);
  await (await exp.resolve({ name: "a:1", dest, tar: "false", compression: "zstd" })).export(source);
  const index = JSON.parse(await readFile(join(dest, "index.json"), "utf8")) as Index;
  assert.deepEqual(index.manifests.map((m) => m.annotations?.["io.containerd.image.name"]), ["docker.io/library/b:1", "docker.io/library/a:1"]);
  const m = JSON.parse(await readFile(join(dest, "blobs/sha256", index.manifests[1].digest.slice(7)), "utf8")) as Manifest;
  assert.equal(m.layers[0].mediaType, MediaType.ociLayerZstd);
});

test("dest=- writes to the injected stdout without ending it; a TTY is refused", async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await (await createOciExporter({ store, now, stdout: out }).resolve({ dest: "-" })).export(source);
  assert.ok(!out.writableEnded);
  assert.ok(Buffer.concat(chunks).includes(Buffer.from("oci-layout")));
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  await assert.rejects(createOciExporter({ store, stdout: tty }).resolve({ dest: "-" }), isInvalidArgument);
  await assert.rejects(createOciExporter({ store }).resolve({}), (e: unknown) => isInvalidArgument(e) && /dest/.test(String(e)));
});

test("scratch exports an image with no layers", async () => {
  const dest = join(root, "scratch.tar");
  await (await createOciExporter({ store, now }).resolve({ dest })).export(testExportSource({ layers: [], rootfs: root }));
  const dir = await unpack(dest);
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as Index;
  const manifest = await blob<Manifest>(dir, index.manifests[0]);
  assert.deepEqual(manifest.layers, []);
});

test("multi-platform oci tarball: index.json names an OCI index of one manifest per platform", async () => {
  const dest = join(root, "multi.tar");
  const inst = await createOciExporter({ store, now }).resolve({
    name: "example/multi:1", dest, "annotation-index.org.example.kind": "multi", "annotation[linux/arm64].org.example.only": "arm",
  });
  assert.ok(inst.exportPlatforms, "the oci exporter takes multi-platform results");
  const arm = { ...source, platform: { os: "linux", architecture: "arm64", variant: "v8" } };
  const { response } = await inst.exportPlatforms([source, arm]);
  const dir = await unpack(dest);
  const top = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as Index;
  assert.equal(top.manifests.length, 1);
  assert.equal(top.manifests[0].mediaType, MediaType.ociIndex);
  assert.equal(response["containerimage.digest"], top.manifests[0].digest);
  assert.equal(response["containerimage.config.digest"], undefined, "an index has no single config");
  const index = await blob<Index & { annotations?: Record<string, string> }>(dir, top.manifests[0]);
  assert.deepEqual(index.annotations, { "org.example.kind": "multi" });
  assert.deepEqual(index.manifests.map((m) => m.platform), [
    { architecture: "amd64", os: "linux" }, { architecture: "arm64", os: "linux", variant: "v8" },
  ]);
  const manifests = await Promise.all(index.manifests.map((m) => blob<Manifest & { annotations?: Record<string, string> }>(dir, m)));
  assert.equal(manifests[0].annotations, undefined);
  assert.deepEqual(manifests[1].annotations, { "org.example.only": "arm" });
  const configs = await Promise.all(manifests.map((m) => blob<{ architecture: string }>(dir, m.config)));
  assert.deepEqual(configs.map((c) => c.architecture), ["amd64", "arm64"]);
  // The same layers serve both platforms here, so the blobs are stored once.
  assert.deepEqual(manifests[0].layers, manifests[1].layers);
});

test("multi-platform: the docker exporter refuses, and index annotations need an index", async () => {
  const docker = await createDockerExporter({ store, now }).resolve({ dest: join(root, "d.tar") });
  assert.equal(docker.exportPlatforms, undefined);
  const single = await createOciExporter({ store, now }).resolve({ dest: join(root, "s.tar"), "annotation-index.k": "v" });
  await assert.rejects(single.export(source), (e: unknown) => isInvalidArgument(e) && /index annotations/.test(String(e)));
  const wrong = await createOciExporter({ store, now }).resolve({ dest: join(root, "w.tar"), "annotation[linux/s390x].k": "v" });
  await assert.rejects(wrong.exportPlatforms?.([source, { ...source, platform: { os: "linux", architecture: "arm64", variant: "v8" } }]) ?? Promise.resolve(),
    (e: unknown) => isInvalidArgument(e) && /linux\/s390x/.test(String(e)));
});
