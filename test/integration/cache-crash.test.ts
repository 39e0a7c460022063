// Crash safety: `kill -9` of the CLI at random moments during builds, again and again, must leave a root
// that the next build uses without error and without serving a half-written result.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "./helpers/requires.js";
import { runGantry, runGantryAndKill } from "./helpers/gantry-cli.js";
import { readTar } from "./helpers/read-tar.js";
import { buildDockerfile } from "./helpers/dockerfile-build.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;
const ITERATIONS = Number(process.env.GANTRY_CRASH_ITERATIONS ?? 15);

function md5(b: Buffer | undefined): string {
  return createHash("md5").update(b ?? Buffer.alloc(0)).digest("hex");
}

test("kill -9 at random points of builds leaves a root the next build uses correctly", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await mkdtemp(join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "cache-crash-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  const ctx = join(dir, "ctx");
  await mkdir(join(ctx, "data"), { recursive: true });
  for (let i = 0; i < 200; i++) await writeFile(join(ctx, "data", `f${i}`), `file ${i}\n`.repeat(50));
  await writeFile(join(ctx, "Dockerfile"), [
    "FROM localhost:5000/cf/busybox:1",
    "ARG N",
    "COPY data /data",
    "RUN --mount=type=cache,target=/cache,id=crash cp -r /data /cache/d$N && seq 1 200000 > /nums && sleep 0.$N && md5sum /nums | cut -c1-32 > /nums.md5",
    "RUN head -c 2000000 /dev/urandom > /r && md5sum /r | cut -c1-32 > /r.md5",
    "",
  ].join("\n"));
  const args = (n: number, out: string): string[] => ["--root", root, "build", "--frontend", "dockerfile.v0", "--local", `context=${ctx}`,
    "--local", `dockerfile=${ctx}`, "--progress", "plain", "--opt", `build-arg:N=${n}`, "--output", `type=tar,dest=${out}`];
  for (let i = 0; i < ITERATIONS; i++) {
    // Mostly during the build (engine start ~0.3 s, steps ~0.5-2 s), sometimes right at the start or end.
    const ms = 50 + Math.floor(Math.random() * 2500);
    await runGantryAndKill(args(i % 4, join(dir, "killed.tar")), ms);
    if (i % 5 === 4) await writeFile(join(ctx, "data", "f0"), `changed ${i}\n`);
  }
  for (let n = 0; n < 4; n++) {
    const out = join(dir, `final-${n}.tar`);
    const b = await buildDockerfile(root, ctx, out, ["--opt", `build-arg:N=${n}`]);
    assert.equal(b.code, 0, `build ${n} after the kills: ${b.stderr.slice(-2000)}`);
    const tar = await readTar(out);
    assert.equal(md5(tar.get("nums")?.content), tar.get("nums.md5")?.content?.toString().trim(), `build ${n}: /nums is whole`);
    assert.equal(tar.get("nums")?.content?.toString().split("\n").length, 200001);
    assert.equal(md5(tar.get("r")?.content), tar.get("r.md5")?.content?.toString().trim(), `build ${n}: /r is whole`);
    assert.equal(tar.get("data/f1")?.content?.toString(), "file 1\n".repeat(50));
    // f0 was edited between kills: a copy synced before a kill must never be served as the current one.
    assert.equal(tar.get("data/f0")?.content?.toString(), await readFile(join(ctx, "data", "f0"), "utf8"), `build ${n}: /data/f0 is current`);
  }
  const du = await runGantry(["--root", root, "du"]);
  assert.equal(du.code, 0, du.stderr);
  const again = await buildDockerfile(root, ctx, join(dir, "again.tar"), ["--opt", "build-arg:N=1"]);
  assert.equal(again.code, 0, again.stderr);
  const run = [...again.vertices.values()].filter((v) => v.name.includes("RUN"));
  assert.ok(run.length === 2 && run.every((v) => v.cached), "after recovery the cache serves the rebuilt results");
});
