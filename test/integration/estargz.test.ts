// `compression=estargz`: the image's layers are gzip blobs laid out as eStargz (a TOC entry and a footer
// that lazy-pulling snapshotters read), annotated on their descriptors, and still ordinary gzip tars to
// every other tool (skopeo, umoci).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { image, marshalDefinition } from "../../src/llb/state.js";
import { parseEstargzFooter, ESTARGZ_FOOTER_SIZE } from "../../src/oci/estargz-toc.js";
import { runGantry } from "./helpers/gantry-cli.js";
import { requires } from "./helpers/requires.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true, tools: ["skopeo", "umoci"] } as const;

interface LayerDesc {
  mediaType: string;
  digest: string;
  annotations?: Record<string, string>;
}

test("an estargz OCI export has TOC-annotated gzip layers that skopeo and umoci read", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await mkdtemp(join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "estargz-"));
  const def = marshalDefinition(image("localhost:5000/cf/busybox:1").run({ shell: "mkdir -p /data && seq 1 20000 > /data/numbers" }).root());
  const res = await runGantry(["--root", join(dir, "root"), "build", "--progress", "plain", "--output",
    `type=oci,dest=${join(dir, "out.tar")},compression=estargz,name=example/estargz:1`], { stdin: def });
  assert.equal(res.code, 0, res.stderr);
  const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci-archive:${join(dir, "out.tar")}`], { encoding: "utf8" })) as { layers: LayerDesc[] };
  assert.equal(raw.layers.length, 2);
  execFileSync("tar", ["-xf", join(dir, "out.tar"), "-C", dir]);
  for (const layer of raw.layers) {
    assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    const toc = layer.annotations?.["containerd.io/snapshot/stargz/toc.digest"];
    assert.match(toc ?? "", /^sha256:[0-9a-f]{64}$/, "every layer, the base's too, is re-laid as eStargz");
    assert.match(layer.annotations?.["io.containers.estargz.uncompressed-size"] ?? "", /^\d+$/);
    const blob = await readFile(join(dir, "blobs", "sha256", layer.digest.slice("sha256:".length)));
    // The footer points at the TOC member; the whole blob is one gzip'd tar that lists the TOC last.
    assert.ok(parseEstargzFooter(blob.subarray(blob.length - ESTARGZ_FOOTER_SIZE)) < blob.length);
    const names = execFileSync("tar", ["-tzf", "-"], { input: blob, encoding: "utf8", maxBuffer: 64 << 20 }).trim().split("\n");
    assert.equal(names.at(-1), "stargz.index.json");
  }
  execFileSync("umoci", ["unpack", "--image", `${dir}:1`, join(dir, "bundle")], { stdio: "pipe" });
  assert.equal((await readFile(join(dir, "bundle", "rootfs", "data", "numbers"), "utf8")).split("\n").length, 20001);
});
