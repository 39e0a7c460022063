// Issue 6: an image built FROM a pulled base keeps the base's own layer blobs (same digests, as upstream),
// across processes, and converts them only when asked to (force-compression, another compression).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "./helpers/requires.js";
import { runGantry } from "./helpers/gantry-cli.js";

const BUSYBOX = "localhost:5000/cf/busybox:1";

function layersOf(ref: string, extra: string[] = []): string[] {
  return (JSON.parse(execFileSync("skopeo", ["inspect", ...extra, ref], { encoding: "utf8" })) as { Layers: string[] }).Layers;
}

test("FROM a pulled image exports the base layer as the base image's own blob", async (t) => {
  if (!requires(t, { root: true, runc: true, overlay: true, registry: true, tools: ["skopeo"] })) return;
  const dir = await mkdtemp(join(tmpdir(), "gantry-base-reuse-"));
  const root = join(dir, "root");
  try {
    await writeFile(join(dir, "Dockerfile"), `FROM ${BUSYBOX}\nRUN echo reuse > /reuse\n`);
    const build = async (name: string, output: string, extra: string[] = []): Promise<string[]> => {
      const dest = join(dir, `${name}.tar`);
      const res = await runGantry(["--root", root, "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`,
        "--local", `dockerfile=${dir}`, "--progress", "plain", ...extra, "--output", `type=oci,dest=${dest}${output}`]);
      assert.equal(res.code, 0, res.stderr);
      return layersOf(`oci-archive:${dest}`);
    };
    const base = layersOf(`docker://${BUSYBOX}`, ["--tls-verify=false"]);
    assert.equal(base.length, 1, "the test image has one layer");

    const first = await build("first", "");
    assert.equal(first.length, 2);
    assert.equal(first[0], base[0], "the base layer keeps busybox's digest");

    // A new process, everything cached: the layer's origin is read back from disk.
    const again = await build("again", "");
    assert.deepEqual(again, first);

    const forced = await build("forced", ",force-compression=true");
    assert.notEqual(forced[0], base[0], "force-compression re-tars and re-compresses the base layer");
    assert.equal(forced[1], first[1]);

    const zstd = await build("zstd", ",compression=zstd,oci-mediatypes=true");
    assert.notEqual(zstd[0], base[0], "another compression converts the base layer");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
