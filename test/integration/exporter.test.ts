// The exporters against real tools: two hand-made overlay-form layers (files, a dir, a symlink, a 0/0
// whiteout, an opaque dir) exported as OCI and Docker tarballs (read back by skopeo and umoci), a local
// directory and a rootfs tar; scratch; and a 256 MiB layer timed with the parallel gzip and with one zlib stream.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import { after, before, describe, it, type TestContext } from "node:test";
import { openLocalContentStore, type LocalContentStore } from "../../src/content/local-content-store.js";
import { createLocalExporter } from "../../src/exporter/local-exporter.js";
import { createDockerExporter, createOciExporter } from "../../src/exporter/oci-exporter.js";
import { createTarExporter } from "../../src/exporter/tar-exporter.js";
import { testExportSource } from "../../src/exporter/testing/overlay-export-source.js";
import { compressStream } from "../../src/oci/compress.js";
import { writeLayerTar } from "../../src/oci/layer-writer.js";
import type { Index } from "../../src/oci/types.js";
import { requires } from "./helpers/requires.js";

const NEEDS = { root: true, overlay: true, tools: ["skopeo", "umoci", "getfattr", "setfattr", "mknod"] };
let root: string;
let store: LocalContentStore;
let l1: string;
let l2: string;

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
}

/** Layer 1: a base tree. Layer 2: deletes gone.txt, makes old/ opaque (only new stays), edits etc/hostname. */
async function makeLayers(): Promise<void> {
  await mkdir(join(l1, "etc"), { recursive: true });
  await mkdir(join(l1, "usr/bin"), { recursive: true });
  await mkdir(join(l1, "old"));
  await writeFile(join(l1, "etc/hostname"), "one\n");
  await writeFile(join(l1, "usr/bin/tool"), "#!/bin/sh\necho tool\n", { mode: 0o755 });
  await symlink("usr/bin/tool", join(l1, "tool-link"));
  await writeFile(join(l1, "gone.txt"), "delete me\n");
  await writeFile(join(l1, "old/a"), "a\n");
  await writeFile(join(l1, "old/b"), "b\n");
  await mkdir(join(l2, "etc"), { recursive: true });
  await mkdir(join(l2, "old"));
  await writeFile(join(l2, "etc/hostname"), "two\n");
  await writeFile(join(l2, "old/new"), "new\n");
  sh("mknod", [join(l2, "gone.txt"), "c", "0", "0"]);
  sh("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(l2, "old")]);
}

/** The merged result every filesystem view must show. */
async function assertExpectedRootfs(dir: string): Promise<void> {
  assert.equal(await readFile(join(dir, "etc/hostname"), "utf8"), "two\n");
  assert.equal(await readlink(join(dir, "tool-link")), "usr/bin/tool");
  assert.equal((await stat(join(dir, "usr/bin/tool"))).mode & 0o777, 0o755);
  await assert.rejects(lstat(join(dir, "gone.txt")), { code: "ENOENT" });
  assert.deepEqual((await readdir(join(dir, "old"))).sort(), ["new"]);
}

function source(): ReturnType<typeof testExportSource> {
  return testExportSource({ layers: [{ path: l1, description: "base" }, { path: l2, description: "edit" }] });
}

describe("exporters", () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "gantry-exporter-it-"));
    store = await openLocalContentStore(join(root, "content"));
    l1 = join(root, "layers/1");
    l2 = join(root, "layers/2");
    if (process.getuid?.() === 0) await makeLayers();
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("oci tarball: skopeo lists 2 layers and umoci unpacks the expected rootfs", async (t: TestContext) => {
    if (!requires(t, NEEDS)) return;
    const file = join(root, "image-oci.tar");
    const { response } = await (await createOciExporter({ store }).resolve({ name: "test/app:1", dest: file })).export(source());
    const info = JSON.parse(sh("skopeo", ["inspect", `oci-archive:${file}`])) as { Layers: string[]; Digest: string };
    assert.equal(info.Layers.length, 2);
    assert.equal(info.Digest, response["containerimage.digest"]);
    const layout = join(root, "layout-oci");
    await mkdir(layout);
    sh("tar", ["-xf", file, "-C", layout]);
    const bundle = join(root, "bundle");
    sh("umoci", ["unpack", "--image", `${layout}:1`, bundle]);
    await assertExpectedRootfs(join(bundle, "rootfs"));
  });

  it("docker tarball: manifest.json names the config and layers, skopeo reads it", async (t: TestContext) => {
    if (!requires(t, NEEDS)) return;
    const file = join(root, "image-docker.tar");
    await (await createDockerExporter({ store }).resolve({ name: "app:v2", dest: file })).export(source());
    const dir = join(root, "layout-docker");
    await mkdir(dir);
    sh("tar", ["-xf", file, "-C", dir]);
    const records = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    assert.equal(records.length, 1);
    assert.deepEqual(records[0].RepoTags, ["app:v2"]);
    assert.equal(records[0].Layers.length, 2);
    for (const p of [records[0].Config, ...records[0].Layers]) {
      const hex = createHash("sha256").update(await readFile(join(dir, p))).digest("hex");
      assert.equal(`blobs/sha256/${hex}`, p);
    }
    const config = JSON.parse(await readFile(join(dir, records[0].Config), "utf8")) as { rootfs: { diff_ids: string[] } };
    assert.equal(config.rootfs.diff_ids.length, 2);
    const info = JSON.parse(sh("skopeo", ["inspect", `docker-archive:${file}`])) as { Layers: string[] };
    assert.equal(info.Layers.length, 2);
  });

  it("local export reproduces the merged files", async (t: TestContext) => {
    if (!requires(t, NEEDS)) return;
    const dest = join(root, "local-out");
    await (await createLocalExporter().resolve({ dest })).export(source());
    await assertExpectedRootfs(dest);
  });

  it("tar export holds the merged files", async (t: TestContext) => {
    if (!requires(t, NEEDS)) return;
    const file = join(root, "rootfs.tar");
    await (await createTarExporter().resolve({ dest: file })).export(source());
    const dir = join(root, "rootfs-x");
    await mkdir(dir);
    sh("tar", ["-xpf", file, "-C", dir]);
    await assertExpectedRootfs(dir);
  });

  it("scratch: an empty directory, an empty tar and an image with no layers", async (t: TestContext) => {
    if (!requires(t, NEEDS)) return;
    const scratch = testExportSource({ layers: [] });
    const dest = join(root, "scratch-dir");
    await (await createLocalExporter().resolve({ dest })).export(scratch);
    assert.deepEqual(await readdir(dest), []);
    const tarFile = join(root, "scratch.tar");
    await (await createTarExporter().resolve({ dest: tarFile })).export(scratch);
    const tar = await readFile(tarFile);
    assert.equal(tar.length, 1024);
    assert.equal(sh("tar", ["-tf", tarFile]), "");
    const ociFile = join(root, "scratch-oci.tar");
    await (await createOciExporter({ store }).resolve({ dest: ociFile })).export(scratch);
    const info = JSON.parse(sh("skopeo", ["inspect", `oci-archive:${ociFile}`])) as { Layers: string[] };
    assert.equal(info.Layers.length, 0);
    const dir = join(root, "scratch-layout");
    await mkdir(dir);
    sh("tar", ["-xf", ociFile, "-C", dir]);
    assert.equal((JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as Index).manifests.length, 1);
  });

  it("a 256 MiB layer with gzip: parallel vs one zlib stream (timing reported)", async (t: TestContext) => {
    if (!requires(t, NEEDS)) return;
    const big = join(root, "layers/big");
    await mkdir(big, { recursive: true });
    // base64 of random bytes: ~25% compressible, like typical binaries.
    sh("sh", ["-c", `head -c 201326592 /dev/urandom | base64 -w 0 | head -c 268435456 > ${join(big, "blob")}`]);
    const results: Record<string, { ms: number; size: number; diffId: string; unzipped: string }> = {};
    for (const [label, builtinGzip] of [["parallel", false], ["zlib", true]] as const) {
      const gz = compressStream("gzip", { builtinGzip });
      let size = 0;
      // The blob must gunzip to exactly the tar: hash what an independent gunzip makes of it.
      const gunzip = createGunzip();
      const hash = createHash("sha256");
      gunzip.on("data", (c: Buffer) => hash.update(c));
      const unzipped = new Promise<string>((res, rej) => gunzip.on("end", () => res(`sha256:${hash.digest("hex")}`)).on("error", rej));
      const sink = new Writable({
        write: (c: Buffer, _e, cb) => { size += c.length; gunzip.write(c, cb); },
        final: (cb) => { gunzip.end(); cb(); },
      });
      const start = process.hrtime.bigint();
      const piped = new Promise<void>((res, rej) => gz.pipe(sink).on("finish", res).on("error", rej));
      const tar = await writeLayerTar(big, gz);
      await piped;
      results[label] = { ms: Number(process.hrtime.bigint() - start) / 1e6, size, diffId: tar.diffId, unzipped: await unzipped };
    }
    assert.equal(results.parallel.unzipped, results.parallel.diffId);
    assert.equal(results.zlib.unzipped, results.zlib.diffId);
    assert.equal(results.parallel.diffId, results.zlib.diffId);
    assert.ok(results.parallel.size <= results.zlib.size * 1.01, `parallel gzip made ${results.parallel.size} B, one zlib stream ${results.zlib.size} B`);
    t.diagnostic(`256 MiB layer, gzip level 6: parallel ${results.parallel.ms.toFixed(0)} ms (${results.parallel.size} B), ` +
      `zlib ${results.zlib.ms.toFixed(0)} ms (${results.zlib.size} B)`);
  });
});
