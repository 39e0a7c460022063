// Remote cache round trips: a build exports its cache (local layout, registry, inline in the image) and a
// build on a fresh root imports it: the steps are CACHED, no container runs (the stamps are the first
// build's), and the output is the same. mode=min leaves out results off the final chain; mode=max keeps them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "./helpers/requires.js";
import { readTar } from "./helpers/read-tar.js";
import { buildDockerfile, steps, type DockerfileBuild } from "./helpers/dockerfile-build.js";
import { runGantry } from "./helpers/gantry-cli.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;
const BASE = "localhost:5000/cf/busybox:1";

async function workdir(t: { after(fn: () => Promise<void>): void }, name: string): Promise<string> {
  const dir = await mkdtemp(join(process.env.GANTRY_TEST_DIR ?? tmpdir(), `rcache-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function context(dir: string, lines: string[]): Promise<string> {
  const ctx = join(dir, "ctx");
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, "Dockerfile"), [...lines, ""].join("\n"));
  await writeFile(join(ctx, "a.txt"), "a1\n");
  return ctx;
}

const SIMPLE = [`FROM ${BASE}`, "COPY a.txt /a.txt", "RUN cat /a.txt > /a.out && date +%s%N > /a.stamp"];

function assertOk(b: DockerfileBuild, what: string): void {
  assert.equal(b.code, 0, `${what}: ${b.stderr.slice(-3000)}`);
}

function allCached(b: DockerfileBuild): void {
  const s = steps(b);
  assert.ok(Object.keys(s).length >= 3, JSON.stringify(s));
  assert.ok(Object.values(s).every((c) => c), `every step CACHED: ${JSON.stringify(s)}`);
}

async function sameStamps(a: string, b: string, file: string): Promise<void> {
  const [ta, tb] = [await readTar(a), await readTar(b)];
  assert.ok(ta.get(file)?.content?.length, `${file} exists`);
  assert.deepEqual(tb.get(file)?.content, ta.get(file)?.content, `no container ran: ${file} is the first build's`);
}

test("local cache: export, then a fresh root imports it and every step is CACHED", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "local");
  const ctx = await context(dir, SIMPLE);
  const cache = join(dir, "cache");
  const first = await buildDockerfile(join(dir, "root1"), ctx, join(dir, "o1.tar"), ["--export-cache", `type=local,dest=${cache}`]);
  assertOk(first, "export build");
  const index = JSON.parse(await readFile(join(cache, "index.json"), "utf8")) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].annotations?.["org.opencontainers.image.ref.name"], "latest");
  const manifest = JSON.parse(await readFile(join(cache, "blobs", "sha256", index.manifests[0].digest.slice(7)), "utf8")) as
    { config: { mediaType: string; digest: string }; layers: unknown[] };
  assert.equal(manifest.config.mediaType, "application/vnd.buildkit.cacheconfig.v0");
  assert.ok(manifest.layers.length >= 2, "base layer(s) and the RUN layer");
  const config = JSON.parse(await readFile(join(cache, "blobs", "sha256", manifest.config.digest.slice(7)), "utf8")) as
    { layers: unknown[]; records: Array<{ digest: string; inputs?: unknown[]; layers?: unknown[] }> };
  assert.ok(config.records.some((r) => r.inputs && r.layers), "records link inputs and name results");

  const second = await buildDockerfile(join(dir, "root2"), ctx, join(dir, "o2.tar"), ["--import-cache", `type=local,src=${cache}`]);
  assertOk(second, "import build");
  allCached(second);
  await sameStamps(join(dir, "o1.tar"), join(dir, "o2.tar"), "a.stamp");
  assert.equal((await readTar(join(dir, "o2.tar"))).get("a.out")?.content?.toString(), "a1\n");

  // Without the import a fresh root runs the step again: the hit came from the cache.
  const third = await buildDockerfile(join(dir, "root3"), ctx, join(dir, "o3.tar"));
  assertOk(third, "plain build");
  assert.ok(Object.values(steps(third)).some((c) => !c));
});

test("mode=min leaves out another stage's result, mode=max keeps it", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "modes");
  const ctx = await context(dir, [
    `FROM ${BASE} AS build`, "RUN date +%s%N > /built.stamp",
    `FROM ${BASE}`, "COPY --from=build /built.stamp /built.stamp", "RUN cat /built.stamp > /final.out",
  ]);
  const [min, max] = [join(dir, "min"), join(dir, "max")];
  const first = await buildDockerfile(join(dir, "root1"), ctx, join(dir, "o1.tar"),
    ["--export-cache", `type=local,dest=${min}`, "--export-cache", `type=local,dest=${max},mode=max`]);
  assertOk(first, "export build");

  const target = ["--opt", "target=build"];
  const fromMin = await buildDockerfile(join(dir, "root2"), ctx, join(dir, "o2.tar"), [...target, "--import-cache", `type=local,src=${min}`]);
  assertOk(fromMin, "min import");
  // Multi-stage step names carry the stage (`[build 2/2] RUN date …`).
  const runStep = (b: DockerfileBuild): boolean | undefined => [...b.vertices.values()].find((v) => v.name.includes("] RUN date"))?.cached;
  const names = (b: DockerfileBuild): string => JSON.stringify([...b.vertices.values()].map((v) => [v.name, v.cached]));
  assert.equal(runStep(fromMin), false, `min: the build stage runs again: ${names(fromMin)}`);

  const fromMax = await buildDockerfile(join(dir, "root3"), ctx, join(dir, "o3.tar"), [...target, "--import-cache", `type=local,src=${max}`]);
  assertOk(fromMax, "max import");
  assert.equal(runStep(fromMax), true, `max: the build stage is CACHED: ${names(fromMax)}`);
  const stamp1 = (await readTar(join(dir, "o1.tar"))).get("built.stamp")?.content;
  assert.deepEqual((await readTar(join(dir, "o3.tar"))).get("built.stamp")?.content, stamp1);

  // The final image's chain is in both: a full build from min is CACHED.
  const full = await buildDockerfile(join(dir, "root4"), ctx, join(dir, "o4.tar"), ["--import-cache", `type=local,src=${min}`]);
  assertOk(full, "full build from min");
  const fullSteps = [...full.vertices.values()].filter((v) => /^\[stage-1 \d+\/\d+\]/.test(v.name));
  assert.ok(fullSteps.length === 2 && fullSteps.every((v) => v.cached), `final stage CACHED: ${names(full)}`);
  await sameStamps(join(dir, "o1.tar"), join(dir, "o4.tar"), "final.out");
});

test("registry cache: push the cache manifest, import it on a fresh root", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "registry");
  const ctx = await context(dir, SIMPLE);
  const ref = `localhost:5000/gantry-test/cache:${randomBytes(4).toString("hex")}`;
  const first = await buildDockerfile(join(dir, "root1"), ctx, join(dir, "o1.tar"), ["--export-cache", `type=registry,ref=${ref},mode=max`]);
  assertOk(first, "export build");
  const second = await buildDockerfile(join(dir, "root2"), ctx, join(dir, "o2.tar"), ["--import-cache", `type=registry,ref=${ref}`]);
  assertOk(second, "import build");
  allCached(second);
  await sameStamps(join(dir, "o1.tar"), join(dir, "o2.tar"), "a.stamp");
});

test("inline cache: the pushed image carries it; a fresh root imports it from the image", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "inline");
  const ctx = await context(dir, SIMPLE);
  const image = `localhost:5000/gantry-test/inline:${randomBytes(4).toString("hex")}`;
  const first = await buildDockerfile(join(dir, "root1"), ctx, join(dir, "o1.tar"),
    ["--output", `type=image,name=${image},push=true`, "--export-cache", "type=inline"]);
  assertOk(first, "export build");
  const second = await buildDockerfile(join(dir, "root2"), ctx, join(dir, "o2.tar"), ["--import-cache", `type=registry,ref=${image}`]);
  assertOk(second, "import build");
  allCached(second);
  await sameStamps(join(dir, "o1.tar"), join(dir, "o2.tar"), "a.stamp");
});

test("bad cache flags fail before building, naming the flag", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "bad");
  const ctx = await context(dir, SIMPLE);
  const cases: Array<[string[], RegExp]> = [
    [["--export-cache", "type=local"], /--export-cache type=local: dest=/],
    [["--import-cache", "type=local"], /--import-cache type=local: src=/],
    [["--export-cache", "type=registry"], /--export-cache type=registry: ref=/],
    [["--export-cache", `type=local,dest=${dir}/c,mode=all`], /--export-cache.*unknown mode "all"/],
    [["--export-cache", "type=nope"], /--export-cache: unknown cache type "nope"/],
    [["--import-cache", "type=s3,bucket=x"], /--import-cache type=s3 is not supported/],
  ];
  for (const [flags, want] of cases) {
    const res = await runGantry(["--root", join(dir, "root"), "build", "--frontend", "dockerfile.v0", "--local", `context=${ctx}`,
      "--local", `dockerfile=${ctx}`, "--progress", "plain", ...flags]);
    assert.notEqual(res.code, 0, flags.join(" "));
    assert.match(res.stderr, want);
    assert.doesNotMatch(res.stderr, /RUN cat/, "nothing was built");
  }
});
