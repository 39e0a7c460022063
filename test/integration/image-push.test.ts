// Issue 6's push path against the real loopback registry: an LLB image built by the CLI and pushed with
// `type=image,push=true`, read back by skopeo; two names at once; zstd with OCI media types; push by
// digest; and a second push that finds every blob already there (or mounts it) and uploads none.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { image, marshalDefinition } from "../../src/llb/state.js";
import { runGantry } from "./helpers/gantry-cli.js";
import { requires } from "./helpers/requires.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true, tools: ["skopeo"] } as const;
const root = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "image-push-root");
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const definition = marshalDefinition(image("localhost:5000/cf/busybox:1").run({ shell: "echo hi > /f" }).root());

interface Pushed {
  metadata: Record<string, unknown>;
  stderr: string;
}

async function push(output: string): Promise<Pushed> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-push-"));
  const md = join(dir, "metadata.json");
  const res = await runGantry(["--root", root, "build", "--progress", "plain", "--metadata-file", md, "--output", output],
    { stdin: definition });
  assert.equal(res.code, 0, res.stderr);
  return { metadata: JSON.parse(await readFile(md, "utf8")) as Pushed["metadata"], stderr: res.stderr };
}

/** A string field of the metadata file. */
function field(md: Record<string, unknown>, key: string): string {
  const v = md[key];
  assert.equal(typeof v, "string", `metadata ${key}`);
  return v as string;
}

interface Inspect {
  Digest: string;
  Layers: string[];
  LayerMimeTypes?: string[];
}

function inspect(ref: string, raw = false): Inspect & { mediaType?: string; layers?: Array<{ mediaType: string }> } {
  const args = ["inspect", "--tls-verify=false", "--no-tags", ...(raw ? ["--raw"] : []), `docker://${ref}`];
  return JSON.parse(execFileSync("skopeo", args, { encoding: "utf8" })) as Inspect;
}

/** Blob outcomes the exporter printed (`pushing sha256:… to …: uploaded`). */
function outcomes(stderr: string): Record<string, number> {
  const counts: Record<string, number> = { uploaded: 0, mounted: 0, "already exists": 0 };
  for (const m of stderr.matchAll(/pushing sha256:[0-9a-f]{64} to \S+: (uploaded|mounted|already exists)/g)) counts[m[1]]++;
  return counts;
}

test("type=image,push=true pushes an image skopeo reads back with the reported digest", async (t) => {
  if (!requires(t, NEEDS)) return;
  const { metadata, stderr } = await push("type=image,name=localhost:5000/test/pushed:1,push=true");
  const digest = field(metadata, "containerimage.digest");
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(field(metadata, "image.name"), "localhost:5000/test/pushed:1");
  assert.match(field(metadata, "containerimage.config.digest"), /^sha256:[0-9a-f]{64}$/);
  // buildctl's metadata file inlines the base64 descriptor as JSON.
  const desc = metadata["containerimage.descriptor"] as { digest?: string; mediaType?: string } | undefined;
  assert.equal(desc?.digest, digest);
  assert.equal(desc?.mediaType, "application/vnd.docker.distribution.manifest.v2+json", "oci-mediatypes defaults to false");
  const info = inspect("localhost:5000/test/pushed:1");
  assert.equal(info.Digest, digest);
  assert.equal(info.Layers.length, 2, "busybox's layer and the RUN layer");
  // skopeo copy pulls every blob and checks each digest.
  const copyDir = await mkdtemp(join(tmpdir(), "gantry-push-copy-"));
  execFileSync("skopeo", ["copy", "--src-tls-verify=false", "docker://localhost:5000/test/pushed:1", `oci:${copyDir}:copy`], { stdio: "pipe" });
  // The base layer is busybox's own blob, so the registry mounts it from cf/busybox instead of an upload.
  assert.match(stderr, new RegExp(`pushing ${info.Layers[0]} to localhost:5000/test/pushed: (mounted|already exists)`));
  for (const line of ["exporting layers", "pushing layers", "naming to localhost:5000/test/pushed:1", "pushing manifest for localhost:5000/test/pushed:1"]) {
    assert.ok(stderr.includes(line), `progress shows "${line}"`);
  }
});

test("two names at once get the same manifest", async (t) => {
  if (!requires(t, NEEDS)) return;
  const a = `localhost:5000/test/two-a-${RUN}:1`;
  const b = `localhost:5000/test/two-b-${RUN}:latest`;
  const { metadata, stderr } = await push(`type=image,"name=${a},${b}",push=true`);
  assert.equal(field(metadata, "image.name"), `${a},${b}`);
  assert.equal(inspect(a).Digest, field(metadata, "containerimage.digest"));
  assert.equal(inspect(b).Digest, field(metadata, "containerimage.digest"));
  const counts = outcomes(stderr);
  // Earlier pushes from this root may let the first repository mount some blobs too.
  assert.equal(counts.uploaded + counts.mounted, 6, `config and 2 layers into each repository: ${JSON.stringify(counts)}`);
  assert.ok(counts.mounted >= 3, `the second repository mounts them from the first: ${JSON.stringify(counts)}`);
});

test("zstd with oci-mediatypes=true pushes an OCI manifest with zstd layers", async (t) => {
  if (!requires(t, NEEDS)) return;
  const ref = `localhost:5000/test/zstd-${RUN}:1`;
  const { metadata } = await push(`type=image,name=${ref},push=true,compression=zstd,oci-mediatypes=true`);
  const raw = inspect(ref, true);
  assert.equal(raw.mediaType, "application/vnd.oci.image.manifest.v1+json");
  assert.deepEqual(raw.layers?.map((l) => l.mediaType), ["application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.oci.image.layer.v1.tar+zstd"]);
  assert.equal(inspect(ref).Digest, field(metadata, "containerimage.digest"));
});

test("uncompressed layers with Docker and with OCI media types", async (t) => {
  if (!requires(t, NEEDS)) return;
  for (const [oci, manifestType, layerType] of [
    [false, "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.image.rootfs.diff.tar"],
    [true, "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.layer.v1.tar"],
  ] as const) {
    const ref = `localhost:5000/test/plain-${oci}-${RUN}:1`;
    const { metadata } = await push(`type=image,name=${ref},push=true,compression=uncompressed,oci-mediatypes=${oci}`);
    const raw = inspect(ref, true);
    assert.equal(raw.mediaType, manifestType);
    assert.deepEqual(raw.layers?.map((l) => l.mediaType), [layerType, layerType]);
    assert.equal(inspect(ref).Digest, field(metadata, "containerimage.digest"));
    // An uncompressed layer's digest is its diffID: the config's rootfs lists the same digests.
    const config = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", "--config", `docker://${ref}`], { encoding: "utf8" })) as
      { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids, inspect(ref).Layers);
    const copyDir = await mkdtemp(join(tmpdir(), "gantry-push-plain-"));
    execFileSync("skopeo", ["copy", "--src-tls-verify=false", `docker://${ref}`, `oci:${copyDir}:x`], { stdio: "pipe" });
  }
});

test("push-by-digest pushes the manifest without a tag", async (t) => {
  if (!requires(t, NEEDS)) return;
  const name = `localhost:5000/test/bydigest-${RUN}`;
  const { metadata } = await push(`type=image,name=${name}:1,push=true,push-by-digest=true`);
  const digest = field(metadata, "containerimage.digest");
  assert.equal(field(metadata, "image.name"), name);
  assert.equal(inspect(`${name}@${digest}`).Digest, digest);
  assert.throws(() => inspect(`${name}:1`), "the tag was not pushed");
});

test("a second push of the same image uploads no blob", async (t) => {
  if (!requires(t, NEEDS)) return;
  const ref = `localhost:5000/test/again-${RUN}:1`;
  // A fixed epoch keeps the config (and so every blob) identical between the two builds.
  const output = `type=image,name=${ref},push=true,source-date-epoch=0`;
  const first = await push(output);
  const before = outcomes(first.stderr);
  assert.equal(before.uploaded + before.mounted, 3, `a new repository gets config and 2 layers: ${JSON.stringify(before)}`);
  const second = await push(output);
  assert.equal(field(second.metadata, "containerimage.digest"), field(first.metadata, "containerimage.digest"));
  const counts = outcomes(second.stderr);
  assert.equal(counts.uploaded, 0, `nothing uploaded: ${JSON.stringify(counts)}`);
  assert.equal(counts.mounted, 0);
  assert.equal(counts["already exists"], 3, "config and both layers found by HEAD");
  assert.equal(inspect(ref).Digest, field(second.metadata, "containerimage.digest"));
});

test("type=registry is type=image with push=true", async (t) => {
  if (!requires(t, NEEDS)) return;
  const ref = `localhost:5000/test/registry-${RUN}:1`;
  const { metadata } = await push(`type=registry,name=${ref}`);
  assert.equal(inspect(ref).Digest, field(metadata, "containerimage.digest"));
});
