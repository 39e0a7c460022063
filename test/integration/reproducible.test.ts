// SOURCE_DATE_EPOCH: two builds of the same Dockerfile, the second without cache (its RUN runs again and
// writes files with new times), give the same image digest; without the epoch they do not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "./helpers/requires.js";
import { runGantry } from "./helpers/gantry-cli.js";

const root = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "reproducible-root");

async function digestOf(dir: string, n: number, extra: string[], rewrite: boolean): Promise<string> {
  const md = join(dir, `md${n}.json`);
  const res = await runGantry(["--root", root, "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`, "--local", `dockerfile=${dir}`,
    "--progress", "quiet", ...extra, "--output", `type=oci,dest=${join(dir, `o${n}.tar`)}${rewrite ? ",rewrite-timestamp=true" : ""}`, "--metadata-file", md]);
  assert.equal(res.code, 0, res.stderr);
  return (JSON.parse(await readFile(md, "utf8")) as Record<string, string>)["containerimage.digest"];
}

test("SOURCE_DATE_EPOCH=0 builds of the same Dockerfile give equal digests", async (t) => {
  if (!requires(t, { root: true, runc: true, overlay: true, registry: true })) return;
  const dir = await mkdtemp(join(tmpdir(), "gantry-repro-"));
  await writeFile(join(dir, "Dockerfile"), "FROM localhost:5000/cf/busybox:1\nRUN echo hi > /f && mkdir /d && touch /d/x\nENV A=1\n");
  const epoch = ["--opt", "build-arg:SOURCE_DATE_EPOCH=0"];
  const first = await digestOf(dir, 1, epoch, true);
  await new Promise((r) => setTimeout(r, 1100)); // a later second, so unclamped times would differ
  const second = await digestOf(dir, 2, [...epoch, "--no-cache"], true);
  assert.equal(second, first);
  const plainA = await digestOf(dir, 3, ["--no-cache"], false);
  await new Promise((r) => setTimeout(r, 1100));
  const plainB = await digestOf(dir, 4, ["--no-cache"], false);
  assert.notEqual(plainA, plainB, "without an epoch the creation times differ");
});
