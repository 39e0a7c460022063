// The five Definitions upstream's Go client wrote (shared/conformance/llb) build with `gantry build`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { requires } from "./helpers/requires.js";
import { runGantry } from "./helpers/gantry-cli.js";
import { readTar, type TarEntry } from "./helpers/read-tar.js";

const LLB = resolve(process.cwd(), "../shared/conformance/llb");
const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;
const stateRoot = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "llb-conformance-root");

async function build(name: string): Promise<Map<string, TarEntry>> {
  const out = join(await mkdtemp(join(tmpdir(), `llb-${name}-`)), "out.tar");
  const def = await readFile(join(LLB, `${name}.pb`));
  const res = await runGantry(["--root", stateRoot, "build", "--progress", "plain", "--local", `context=${join(LLB, "src", name)}`,
    "--output", `type=tar,dest=${out}`], { stdin: def });
  assert.equal(res.code, 0, `gantry build of ${name}.pb failed:\n${res.stderr}`);
  return readTar(out);
}

function text(fs: Map<string, TarEntry>, path: string): string {
  const e = fs.get(path);
  assert.ok(e, `${path} is missing from the exported filesystem`);
  return e.content?.toString("utf8") ?? "";
}

test("seed: RUN writes /file on the busybox image", async (t) => {
  if (!requires(t, NEEDS)) return;
  const fs = await build("seed");
  assert.equal(text(fs, "file"), "built with BuildKit!\n");
  assert.equal(fs.get("bin/busybox")?.type, "file");
});

test("parallel: two sleeping branches are both built and copied together", async (t) => {
  if (!requires(t, NEEDS)) return;
  // That the branches overlap is proven without a clock by the rendezvous test in build-basics.test.ts; a
  // time bound here would only measure how busy the machine is.
  const fs = await build("parallel");
  assert.equal(text(fs, "a"), "a\n");
  assert.equal(text(fs, "b"), "b\n");
});

test("copy-context: the local context is copied and listed", async (t) => {
  if (!requires(t, NEEDS)) return;
  const fs = await build("copy-context");
  assert.equal(text(fs, "app/hello.txt"), await readFile(join(LLB, "src/copy-context/hello.txt"), "utf8"));
  const listing = text(fs, "listing");
  assert.match(listing, /\.\/hello\.txt/);
  assert.match(listing, /\.\/sub\//);
});

test("link-merge: COPY --link merges a layer built in another stage", async (t) => {
  if (!requires(t, NEEDS)) return;
  const fs = await build("link-merge");
  assert.equal(text(fs, "out/f"), "linked\n");
  assert.equal(text(fs, "seen"), "linked\n");
});

test("fileops: mkdir, mkfile with owner, then exec", async (t) => {
  if (!requires(t, NEEDS)) return;
  const fs = await build("fileops");
  const note = fs.get("w/x/note.txt");
  assert.equal(note?.content?.toString(), "hi\n");
  assert.equal(note?.uid, 1000);
  assert.equal(note?.gid, 1000);
  assert.equal(fs.get("link")?.type, "symlink");
  assert.equal(fs.get("link")?.linkname, "/w/x/note.txt");
  assert.equal(fs.has("etc/group"), false);
});

test("gantry debug dump-llb prints upstream's dump byte for byte", async (t) => {
  for (const name of ["seed", "parallel", "copy-context", "link-merge", "fileops"]) {
    const res = await runGantry(["debug", "dump-llb"], { stdin: await readFile(join(LLB, `${name}.pb`)) });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.toString("utf8"), await readFile(join(LLB, `${name}.json`), "utf8"), `${name}.json`);
  }
  const dot = await runGantry(["debug", "dump-llb", "--dot"], { stdin: await readFile(join(LLB, "seed.pb")) });
  assert.equal(dot.code, 0, dot.stderr);
  assert.match(dot.stdout.toString(), /^digraph/m);
  t.diagnostic("five dumps compared");
});
