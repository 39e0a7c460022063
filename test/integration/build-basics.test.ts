// Issue 2's acceptance: the quick-start image, scratch, concurrency, dedupe, cancellation and bad input,
// built through the real CLI on the embedded engine with runc and the loopback registry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { image, local, marshalDefinition, scratch, copy, type State } from "../../src/llb/state.js";
import { requires } from "./helpers/requires.js";
import { CLI, runGantry } from "./helpers/gantry-cli.js";
import { readTar } from "./helpers/read-tar.js";
import { rendezvous } from "./helpers/rendezvous.js";
import { connect } from "../../src/client/connect.js";
import type { ProgressEvent } from "../../src/util/progress-event.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true, tools: ["skopeo", "umoci"] } as const;
const BUSYBOX = "localhost:5000/cf/busybox:1";
const root = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "build-basics-root");

async function scratchDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `gantry-${name}-`));
}

function build(st: State, args: string[]): ReturnType<typeof runGantry> {
  return runGantry(["--root", root, "build", "--progress", "plain", ...args], { stdin: marshalDefinition(st) });
}

test("quick start: RUN on busybox exported as an OCI tarball that skopeo and umoci accept", async (t) => {
  if (!requires(t, NEEDS)) return;
  const st = image(BUSYBOX).run({ shell: 'echo "built with BuildKit!" > file' }).root();
  const dir = await scratchDir("quickstart");
  const out = join(dir, "image.tar");
  const config = JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["/bin/sh"] } });
  const res = await build(st, ["--output", `type=oci,dest=${out},name=localhost/quickstart:v1,"containerimage.config=${config.replace(/"/g, '""')}"`]);
  assert.equal(res.code, 0, res.stderr);
  const inspect = JSON.parse(execFileSync("skopeo", ["inspect", `oci-archive:${out}`], { encoding: "utf8" })) as { Layers: string[] };
  assert.ok(inspect.Layers.length >= 2, `expected busybox's layer and the RUN layer, got ${inspect.Layers.length}`);
  const cfg = JSON.parse(execFileSync("skopeo", ["inspect", "--config", `oci-archive:${out}`], { encoding: "utf8" })) as { config: { Cmd: string[] } };
  assert.deepEqual(cfg.config.Cmd, ["/bin/sh"]);
  const layout = join(dir, "layout");
  await mkdir(layout);
  execFileSync("tar", ["-xf", out, "-C", layout]);
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as { manifests: Array<{ annotations?: Record<string, string> }> };
  const tag = index.manifests[0].annotations?.["org.opencontainers.image.ref.name"];
  assert.ok(tag, "index.json names the image");
  execFileSync("umoci", ["unpack", "--image", `${layout}:${tag}`, join(dir, "bundle")], { stdio: "pipe" });
  assert.equal(await readFile(join(dir, "bundle/rootfs/file"), "utf8"), "built with BuildKit!\n");
});

test("scratch exports an empty directory, and type=tar holds only the filesystem", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await scratchDir("scratch");
  const res = await build(scratch(), ["--output", `type=local,dest=${join(dir, "out")}`]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(await readdir(join(dir, "out")), []);
  const st = scratch().file(copy(image(BUSYBOX), "/etc/passwd", "/passwd"));
  const tarRes = await build(st, ["--output", `type=tar,dest=${join(dir, "fs.tar")}`]);
  assert.equal(tarRes.code, 0, tarRes.stderr);
  const entries = await readTar(join(dir, "fs.tar"));
  assert.deepEqual([...entries.keys()], ["passwd"]);
});

test("independent branches run concurrently and a shared vertex runs once", async (t) => {
  if (!requires(t, NEEDS)) return;
  // In-process client, like a warm daemon: the image is unpacked by the first solve, then only the sleeps count.
  const client = await connect({ root: join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "concurrency-root") });
  try {
    const base = image(BUSYBOX);
    await client.solve({ definition: marshalDefinition(base.run({ shell: "true" }).root()) });
    // A fresh nonce keeps the persistent cache from answering: these steps must really run.
    const nonce = `${process.pid}-${Date.now()}`;
    const shared = base.run({ shell: `echo shared-step ${nonce} > /shared` }).root();
    // Each branch waits in a shared cache mount for the other: run one after the other, the first gives up and fails.
    const meet = { target: "/rv", type: "cache" as const, cacheId: `rv-${nonce}`, sharing: "shared" as const };
    const a = shared.run({ shell: `${rendezvous("/rv", "a", "b")} && echo a ${nonce} > /a`, mounts: [meet] }).root();
    const b = shared.run({ shell: `${rendezvous("/rv", "b", "a")} && echo b ${nonce} > /b`, mounts: [meet] }).root();
    const events: ProgressEvent[] = [];
    await client.solve({ definition: marshalDefinition(a.file(copy(b, "/b", "/b"))), onProgress: (e) => events.push(e) });
    const sharedStarts = events.filter((e) => e.type === "vertex" && e.name.includes("shared-step") && e.started && !e.completed);
    assert.equal(new Set(sharedStarts.map((e) => (e.type === "vertex" ? e.digest : ""))).size, 1, "one vertex for the shared step");
    assert.equal(sharedStarts.length, 1, "the shared step ran once");
  } finally {
    await client.close();
  }
});

async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info.split("\n").map((l) => l.split(" ")[4]).filter((p) => p && p.startsWith(dir));
}

test("cancelling a build kills its container and leaves no mounts or runc state", async (t) => {
  if (!requires(t, NEEDS)) return;
  const cancelRoot = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "cancel-root");
  // An unusual duration, so no other process on the machine matches the check at the end.
  const secs = 600 + Math.floor(Math.random() * 300);
  const st = image(BUSYBOX).run({ shell: `echo started && sleep ${secs}` }).root();
  const child = spawn(process.execPath, [CLI, "--root", cancelRoot, "build", "--progress", "plain", "--output", "type=tar,dest=/dev/null"], { stdio: ["pipe", "ignore", "pipe"] });
  child.stdin.end(marshalDefinition(st));
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the build never started:\n${stderr}`)), 30_000);
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      // The container's own output line ("#5 0.123 started"), not the step's name, which also says "started".
      if (/^#\d+ \d+\.\d+ started$/m.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  child.kill("SIGINT");
  const code = await exited;
  assert.equal(code, 1, `a cancelled build exits 1:\n${stderr}`);
  assert.match(stderr, /cancel/i);
  assert.deepEqual(await mountsUnder(cancelRoot), []);
  const list = execFileSync("runc", ["--root", join(cancelRoot, "executor/runc"), "list", "-q"], { encoding: "utf8" }).trim();
  assert.equal(list, "");
  // The container's processes die with it; allow the kernel a moment to finish reaping them.
  let left = "";
  for (let i = 0; i < 50; i++) {
    left = execFileSync("sh", ["-c", `pgrep -f '^sleep ${secs}$' || true`], { encoding: "utf8" }).trim();
    if (left === "") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(left, "", `the container's sleep ${secs} outlived the cancelled build`);
});

test("bad input gives a short error naming the step, exit 1, and the next build works", async (t) => {
  if (!requires(t, NEEDS)) return;
  const cases: Array<{ what: string; st?: State; stdin?: Buffer; match: RegExp }> = [
    { what: "unknown image", st: image("localhost:5000/cf/does-not-exist:1"), match: /does-not-exist.*not found/i },
    { what: "missing copy source", st: scratch().file(copy(local("context"), "/missing.txt", "/x")), match: /missing\.txt.*not found/ },
    { what: "non-zero exit", st: image(BUSYBOX).run({ shell: "echo boom >&2; exit 3" }).root(), match: /exit code: 3/ },
    { what: "malformed definition", stdin: Buffer.from("not a protobuf at all"), match: /malformed/i },
  ];
  const ctx = await scratchDir("ctx");
  await writeFile(join(ctx, "present.txt"), "here");
  for (const c of cases) {
    const res = await runGantry(["--root", root, "build", "--progress", "plain", "--local", `context=${ctx}`, "--output", "type=tar,dest=/dev/null"],
      { stdin: c.stdin ?? marshalDefinition(c.st as State) });
    assert.equal(res.code, 1, `${c.what}: exit code`);
    const errorLine = res.stderr.split("\n").find((l) => l.startsWith("error: ")) ?? "";
    assert.match(errorLine, c.match, `${c.what}: ${res.stderr}`);
    assert.doesNotMatch(res.stderr, /\n\s+at .*\.js:\d+/, `${c.what}: no stack trace`);
  }
  const ok = await build(image(BUSYBOX).run({ shell: "true" }).root(), ["--output", "type=tar,dest=/dev/null"]);
  assert.equal(ok.code, 0, ok.stderr);
});
