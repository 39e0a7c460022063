// gateway.v0 end to end: Gantry builds a frontend image from the host's node binary (with its shared
// libraries) and its own compiled Dockerfile frontend (dist/src/control/gateway/stdio-frontend-main.js),
// pushes it to the loopback registry, then builds Dockerfiles through it: by `--frontend gateway.v0`, by
// `# syntax=`, and with a frontend that fails. The image is built once per file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, realpath, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "../../src/client/connect.js";
import { codeOf } from "../../src/util/errors.js";
import { runGantry, type CliResult } from "./helpers/gantry-cli.js";
import { requires } from "./helpers/requires.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;
const root = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "gateway-frontend-root");
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const FRONTEND = `localhost:5000/test/gantry-dockerfile-frontend:${RUN}`;
const FAILING = `localhost:5000/test/gantry-failing-frontend:${RUN}`;
const SLEEPING = `localhost:5000/test/gantry-sleeping-frontend:${RUN}`;
/** An argument only the sleeping frontend's process carries, to find it with pgrep. */
const SLEEP_MARK = `gantry-sleeping-frontend-${RUN}`;
/** dist/ of this build (the test runs compiled, from dist/test/integration/). */
const DIST = fileURLToPath(new URL("../../", import.meta.url));
const REPO = join(DIST, "..");

/** The host paths node needs at run time: the binary and what `ldd` lists. */
function nodeFiles(): string[] {
  const out = execFileSync("ldd", ["/usr/bin/node"], { encoding: "utf8" });
  const libs = [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
  return ["/usr/bin/node", ...new Set(libs)];
}

/** A build context whose `rootfs/` is the frontend image's filesystem, with two Dockerfiles for it. */
async function frontendContext(): Promise<string> {
  const ctx = await mkdtemp(join(tmpdir(), "gantry-gw-fe-"));
  const rootfs = join(ctx, "rootfs");
  for (const f of nodeFiles()) {
    await mkdir(join(rootfs, dirname(f)), { recursive: true });
    await cp(await realpath(f), join(rootfs, f)); // the image holds the files themselves, not host symlinks
  }
  await mkdir(join(rootfs, "app", "node_modules", "@bufbuild"), { recursive: true });
  await writeFile(join(rootfs, "app", "package.json"), JSON.stringify({ type: "module" }));
  await cp(join(DIST, "src"), join(rootfs, "app", "dist", "src"), {
    recursive: true, filter: (p) => !/\.(map|d\.ts)$|\.test\.js$/.test(p),
  });
  await cp(join(REPO, "node_modules", "@bufbuild", "protobuf"), join(rootfs, "app", "node_modules", "@bufbuild", "protobuf"), { recursive: true });
  await writeFile(join(ctx, "Dockerfile"),
    "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/usr/bin/node\", \"/app/dist/src/control/gateway/stdio-frontend-main.js\"]\n");
  await writeFile(join(ctx, "Dockerfile.fail"),
    "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/usr/bin/node\", \"-e\", \"process.stderr.write('boom from the frontend\\\\n'); process.exit(1)\"]\n");
  await writeFile(join(ctx, "Dockerfile.sleep"),
    `FROM scratch\nCOPY rootfs/ /\nENTRYPOINT ["/usr/bin/node", "-e", "setTimeout(() => {}, 120000)", "${SLEEP_MARK}"]\n`);
  return ctx;
}

let images: Promise<void> | undefined;

/** Builds and pushes the frontend images, once per file. */
function frontendImages(): Promise<void> {
  images ??= (async () => {
    const ctx = await frontendContext();
    for (const [file, name] of [["Dockerfile", FRONTEND], ["Dockerfile.fail", FAILING], ["Dockerfile.sleep", SLEEPING]]) {
      const res = await runGantry(["--root", root, "build", "--frontend", "dockerfile.v0", "--local", `context=${ctx}`,
        "--local", `dockerfile=${ctx}`, "--opt", `filename=${file}`, "--progress", "plain",
        "--output", `type=image,name=${name},push=true,compression=uncompressed`]);
      assert.equal(res.code, 0, res.stderr);
    }
  })();
  return images;
}

const USER_DOCKERFILE = `FROM localhost:5000/cf/busybox:1 AS b
RUN echo built-by-gateway > /out.txt
FROM scratch
COPY --from=b /out.txt /out.txt
COPY hello.txt /hello.txt
`;

async function userContext(dockerfile: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-gw-user-"));
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  await writeFile(join(dir, "hello.txt"), "hello from the context\n");
  return dir;
}

async function build(dir: string, out: string, frontendArgs: string[]): Promise<CliResult> {
  return runGantry(["--root", root, "build", ...frontendArgs, "--local", `context=${dir}`, "--local", `dockerfile=${dir}`,
    "--progress", "plain", "--output", `type=local,dest=${out}`]);
}

async function assertBuilt(out: string): Promise<void> {
  assert.equal(await readFile(join(out, "out.txt"), "utf8"), "built-by-gateway\n");
  assert.equal(await readFile(join(out, "hello.txt"), "utf8"), "hello from the context\n");
}

test("--frontend gateway.v0 runs the frontend image, which builds the Dockerfile over LLBBridge", async (t) => {
  if (!requires(t, NEEDS)) return;
  await frontendImages();
  const dir = await userContext(USER_DOCKERFILE);
  const out = await mkdtemp(join(tmpdir(), "gantry-gw-out-"));
  const res = await build(dir, out, ["--frontend", "gateway.v0", "--opt", `source=${FRONTEND}`]);
  assert.equal(res.code, 0, res.stderr);
  await assertBuilt(out);
  // The frontend image was pulled and run: its load shows in the progress, beside the Dockerfile's steps.
  assert.match(res.stderr, /gantry-dockerfile-frontend/);
  assert.match(res.stderr, /RUN echo built-by-gateway/);
  // The frontend image's record is typed `frontend`, which prune leaves alone unless --all.
  const du = await runGantry(["--root", root, "du", "--verbose", "--filter", "type==frontend"]);
  assert.equal(du.code, 0, du.stderr);
  assert.match(du.stdout.toString(), /Type:\s+frontend/);
});

test("# syntax= hands a dockerfile.v0 build to the named frontend image", async (t) => {
  if (!requires(t, NEEDS)) return;
  await frontendImages();
  const dir = await userContext(`# syntax=${FRONTEND}\n${USER_DOCKERFILE}`);
  const out = await mkdtemp(join(tmpdir(), "gantry-gw-out-"));
  const res = await build(dir, out, ["--frontend", "dockerfile.v0"]);
  assert.equal(res.code, 0, res.stderr);
  await assertBuilt(out);
  assert.match(res.stderr, /gantry-dockerfile-frontend/);
  // docker/dockerfile refs stay with the built-in frontend: no image is pulled for them.
  const builtin = await userContext(`# syntax=docker/dockerfile:1\n${USER_DOCKERFILE}`);
  const out2 = await mkdtemp(join(tmpdir(), "gantry-gw-out-"));
  const res2 = await build(builtin, out2, ["--frontend", "dockerfile.v0"]);
  assert.equal(res2.code, 0, res2.stderr);
  await assertBuilt(out2);
  assert.doesNotMatch(res2.stderr, /docker-image:\/\/docker\.io\/docker\/dockerfile/);
});

test("a failing frontend image or Dockerfile gives a clear error, and the next build works", async (t) => {
  if (!requires(t, NEEDS)) return;
  await frontendImages();
  const dir = await userContext(USER_DOCKERFILE);
  const out = await mkdtemp(join(tmpdir(), "gantry-gw-out-"));
  const failed = await build(dir, out, ["--frontend", "gateway.v0", "--opt", `source=${FAILING}`]);
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr, /frontend image localhost:5000\/test\/gantry-failing-frontend:\S+ exited with code 1 without returning a result/);
  assert.match(failed.stderr, /boom from the frontend/);
  // The frontend's own error (a Dockerfile mistake) comes back through Return as it is.
  const bad = await userContext("FROM localhost:5000/cf/busybox:1\nFORM x\n");
  const badRes = await build(bad, out, ["--frontend", "gateway.v0", "--opt", `source=${FRONTEND}`]);
  assert.notEqual(badRes.code, 0);
  assert.match(badRes.stderr, /Dockerfile:2/);
  assert.match(badRes.stderr, /unknown instruction: FORM/i);
  const ok = await build(dir, out, ["--frontend", "gateway.v0", "--opt", `source=${FRONTEND}`]);
  assert.equal(ok.code, 0, ok.stderr);
  await assertBuilt(out);
});

function sleepingFrontendRuns(): boolean {
  // `[g]…` keeps pgrep's own shell, whose command line holds the pattern, from matching it.
  return execFileSync("sh", ["-c", `pgrep -f '[${SLEEP_MARK[0]}]${SLEEP_MARK.slice(1)}' || true`], { encoding: "utf8" }).trim() !== "";
}

test("canceling a build kills the frontend container and leaves no runc state or mounts", async (t) => {
  if (!requires(t, NEEDS)) return;
  await frontendImages();
  const dir = await userContext(USER_DOCKERFILE);
  const client = await connect({ root });
  t.after(() => client.close());
  const ac = new AbortController();
  const building = client.solve({
    frontend: "gateway.v0", frontendAttrs: { source: SLEEPING }, locals: { context: dir, dockerfile: dir },
    exports: [{ type: "local", attrs: { dest: await mkdtemp(join(tmpdir(), "gantry-gw-out-")) } }], signal: ac.signal,
  }).then(() => undefined, (err: unknown) => err);
  const deadline = Date.now() + 60_000;
  while (!sleepingFrontendRuns()) {
    assert.ok(Date.now() < deadline, "the frontend container never started");
    await new Promise((r) => setTimeout(r, 100));
  }
  const aborted = Date.now();
  ac.abort();
  assert.equal(codeOf(await building), "Canceled");
  // The frontend would sleep 120 s: 30 s tells a kill from a wait, however slowly a loaded machine tears down.
  assert.ok(Date.now() - aborted < 30_000, "the build took too long to stop");
  assert.equal(sleepingFrontendRuns(), false);
  const list = execFileSync("runc", ["--root", join(root, "executor", "runc"), "list", "-q"], { encoding: "utf8" }).trim();
  assert.equal(list, "");
  const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(join(root, "executor")));
  assert.deepEqual(mounts, []);
});
