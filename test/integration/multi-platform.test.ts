// Multi-platform builds: `--opt platform=linux/amd64,linux/arm64` converts the Dockerfile once per
// platform and exports an image index (OCI tarball, registry push) or one directory per platform (local).
// No QEMU here, so the Dockerfile runs no foreign binaries: FROM scratch and COPY only.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { runGantry, type CliResult } from "./helpers/gantry-cli.js";
import { missing, requires } from "./helpers/requires.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true, tools: ["skopeo"] } as const;
const base = process.env.GANTRY_TEST_DIR ?? tmpdir();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const PLATFORMS = "linux/amd64,linux/arm64";
let ctx = "";
let root = "";

before(async () => {
  if (missing(NEEDS)) return;
  const dir = await mkdtemp(join(base, "multi-platform-"));
  ctx = join(dir, "ctx");
  root = join(dir, "root");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), "FROM scratch\nARG TARGETARCH\nARG TARGETPLATFORM\nCOPY hello.txt /$TARGETARCH.txt\nLABEL built.for=$TARGETPLATFORM\n");
  await writeFile(join(ctx, "hello.txt"), "hello\n");
});

function build(output: string, extra: string[] = []): Promise<CliResult> {
  return runGantry(["--root", root, "build", "--frontend", "dockerfile.v0", "--local", `context=${ctx}`, "--local", `dockerfile=${ctx}`,
    "--opt", `platform=${PLATFORMS}`, "--progress", "plain", "--output", output, ...extra]);
}

interface RawIndex {
  mediaType: string;
  manifests: Array<{ digest: string; mediaType: string; platform?: { architecture: string; os: string } }>;
}

test("an OCI tarball of two platforms holds an index that skopeo reads per platform", async (t) => {
  if (!requires(t, NEEDS)) return;
  const tar = join(ctx, "..", "multi.tar");
  const res = await build(`type=oci,dest=${tar},name=example/multi:1`);
  assert.equal(res.code, 0, res.stderr);
  const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci-archive:${tar}`], { encoding: "utf8" })) as RawIndex;
  assert.equal(raw.mediaType, "application/vnd.oci.image.index.v1+json");
  assert.deepEqual(raw.manifests.map((m) => m.platform?.architecture), ["amd64", "arm64"]);
  for (const arch of ["amd64", "arm64"]) {
    const config = JSON.parse(execFileSync("skopeo", ["inspect", "--override-arch", arch, "--config", `oci-archive:${tar}`], { encoding: "utf8" })) as
      { architecture: string; config: { Labels?: Record<string, string> } };
    assert.equal(config.architecture, arch);
    // Upstream's TARGETPLATFORM for arm64 may carry the default variant; either spelling names the platform.
    assert.match(config.config.Labels?.["built.for"] ?? "", new RegExp(`^linux/${arch}(/v8)?$`));
    const dir = await mkdtemp(join(base, `multi-${arch}-`));
    execFileSync("skopeo", ["copy", "--override-arch", arch, `oci-archive:${tar}`, `dir:${dir}`], { stdio: "pipe" });
  }
});

test("the local exporter writes one directory per platform", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dest = await mkdtemp(join(base, "multi-local-"));
  const res = await build(`type=local,dest=${dest}`);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual((await readdir(dest)).sort(), ["linux_amd64", "linux_arm64"]);
  assert.deepEqual(await readdir(join(dest, "linux_amd64")), ["amd64.txt"]);
  assert.equal(await readFile(join(dest, "linux_arm64", "arm64.txt"), "utf8"), "hello\n");
});

test("a pushed multi-platform image is an index with a manifest per platform", async (t) => {
  if (!requires(t, NEEDS)) return;
  for (const [oci, type] of [[true, "application/vnd.oci.image.index.v1+json"], [false, "application/vnd.docker.distribution.manifest.list.v2+json"]] as const) {
    const ref = `localhost:5000/test/multi-${oci}-${RUN}:1`;
    const md = join(ctx, "..", `md-${oci}.json`);
    const res = await build(`type=image,name=${ref},push=true,oci-mediatypes=${oci}`, ["--metadata-file", md]);
    assert.equal(res.code, 0, res.stderr);
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`], { encoding: "utf8" })) as RawIndex;
    assert.equal(raw.mediaType, type);
    assert.equal(raw.manifests.length, 2);
    const metadata = JSON.parse(await readFile(md, "utf8")) as Record<string, unknown>;
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", "--no-tags", "--override-arch", "arm64", `docker://${ref}`],
      { encoding: "utf8" })) as { Architecture: string; Digest: string };
    assert.equal(inspected.Architecture, "arm64");
    // skopeo reports the digest of what the tag serves (the index): the one in the metadata file.
    assert.equal(inspected.Digest, metadata["containerimage.digest"]);
    const arm = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref.replace(/:1$/, "")}@${raw.manifests[1].digest}`],
      { encoding: "utf8" })) as { layers: unknown[] };
    assert.equal(arm.layers.length, 1, "the arm64 manifest is pushed by digest");
  }
});

test("the docker exporter refuses a multi-platform result with a clear error", async (t) => {
  if (!requires(t, NEEDS)) return;
  const res = await build(`type=docker,dest=${join(ctx, "..", "d.tar")}`);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /^error: The docker exporter cannot export a multi-platform result/m);
});
