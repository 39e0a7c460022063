// Issue 4's acceptance: the cache persists across processes (each CLI build is a new process on the same
// root), content-based keys re-run exactly the steps whose copied files changed, du/prune agree, cache
// mounts keep their files, and automatic GC keeps the store under its limit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "./helpers/requires.js";
import { runGantry } from "./helpers/gantry-cli.js";
import { readTar } from "./helpers/read-tar.js";
import { buildDockerfile, steps } from "./helpers/dockerfile-build.js";
import { openController } from "../../src/control/controller.js";
import { createDirectSession } from "../../src/session/direct-session.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;
const BASE = "localhost:5000/cf/busybox:1";

async function workdir(t: { after(fn: () => Promise<void>): void }, name: string): Promise<string> {
  const dir = await mkdtemp(join(process.env.GANTRY_TEST_DIR ?? tmpdir(), `cache-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("a no-change rebuild in a new process is fully CACHED; one changed file re-runs exactly its steps", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "rebuild");
  const root = join(dir, "root");
  const ctx = join(dir, "ctx");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), [
    `FROM ${BASE}`,
    "COPY a.txt /a.txt",
    "RUN cat /a.txt > /a.out && date +%s%N > /a.stamp",
    "COPY b.txt /b.txt",
    "RUN cat /b.txt > /b.out && date +%s%N > /b.stamp",
    "",
  ].join("\n"));
  await writeFile(join(ctx, "a.txt"), "a1\n");
  await writeFile(join(ctx, "b.txt"), "b1\n");
  await writeFile(join(ctx, "unrelated.txt"), "u1\n");
  const out = (n: number): string => join(dir, `out${n}.tar`);

  const first = await buildDockerfile(root, ctx, out(1));
  assert.equal(first.code, 0, first.stderr);
  assert.ok(Object.values(steps(first)).every((c) => !c), `a cold build runs every step: ${JSON.stringify(steps(first))}`);

  const second = await buildDockerfile(root, ctx, out(2));
  assert.equal(second.code, 0, second.stderr);
  const s2 = steps(second);
  assert.equal(Object.keys(s2).length, 5);
  assert.ok(Object.values(s2).every((c) => c), `no-change rebuild: every step CACHED: ${JSON.stringify(s2)}`);
  const [t1, t2] = [await readTar(out(1)), await readTar(out(2))];
  assert.deepEqual(t2.get("a.stamp")?.content, t1.get("a.stamp")?.content, "no container ran: the stamps are the first build's");
  assert.deepEqual(t2.get("b.stamp")?.content, t1.get("b.stamp")?.content);

  await writeFile(join(ctx, "unrelated.txt"), "u2\n");
  const third = await buildDockerfile(root, ctx, out(3));
  assert.equal(third.code, 0, third.stderr);
  assert.ok(Object.values(steps(third)).every((c) => c), `an uncopied file changed: still all CACHED: ${JSON.stringify(steps(third))}`);

  await writeFile(join(ctx, "b.txt"), "b2\n");
  const fourth = await buildDockerfile(root, ctx, out(4));
  assert.equal(fourth.code, 0, fourth.stderr);
  const s4 = steps(fourth);
  const cachedSteps = Object.entries(s4).filter(([, c]) => c).map(([n]) => n.replace(/@sha256:[0-9a-f]+/, "")).sort();
  assert.deepEqual(cachedSteps, ["COPY a.txt /a.txt", `FROM ${BASE}`, "RUN cat /a.txt > /a.out && date +%s%N > /a.stamp"],
    `only FROM and the a-steps stay CACHED: ${JSON.stringify(s4)}`);
  assert.equal(s4["COPY b.txt /b.txt"], false);
  assert.equal(Object.entries(s4).find(([n]) => n.startsWith("RUN cat /b.txt"))?.[1], false);
  const t4 = await readTar(out(4));
  assert.equal(t4.get("b.out")?.content?.toString(), "b2\n");
  assert.deepEqual(t4.get("a.stamp")?.content, t1.get("a.stamp")?.content, "the a-step did not run again");
});

test("prune frees what du reported, and the next build runs again", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "prune");
  const root = join(dir, "root");
  const ctx = join(dir, "ctx");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), `FROM ${BASE}\nRUN head -c 2000000 /dev/zero > /blob\n`);
  const b = await buildDockerfile(root, ctx, join(dir, "o.tar"));
  assert.equal(b.code, 0, b.stderr);
  const du = await runGantry(["--root", root, "du", "-v"]);
  assert.equal(du.code, 0, du.stderr);
  const text = du.stdout.toString();
  assert.match(text, /Type:\s+regular/);
  assert.match(text, /RUN head -c 2000000/, "records are described by their step");
  // The totals are the last two lines (verbose records have their own "Reclaimable:" lines).
  const total = [...text.matchAll(/^Total:\s+(\S+)/gm)].at(-1)?.[1];
  const reclaimable = [...text.matchAll(/^Reclaimable:\s+(\S+)/gm)].at(-1)?.[1];
  assert.ok(total && total !== "0B", text);
  assert.equal(reclaimable, total, "nothing is in use between builds");
  const pr = await runGantry(["--root", root, "prune"]);
  assert.equal(pr.code, 0, pr.stderr);
  assert.equal(/Total:\s+(\S+)/.exec(pr.stdout.toString())?.[1], total, `prune freed what du reported:\n${text}\n${pr.stdout}`);
  const after = await runGantry(["--root", root, "du"]);
  assert.match(after.stdout.toString(), /Total:\s+0B/);
  const again = await buildDockerfile(root, ctx, join(dir, "o2.tar"));
  assert.equal(again.code, 0, again.stderr);
  assert.ok(Object.values(steps(again)).every((c) => !c), "after prune nothing is cached");
});

test("cache mounts keep their files between builds and show in du as exec.cachemount", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "cachemount");
  const root = join(dir, "root");
  const ctx = join(dir, "ctx");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), [
    `FROM ${BASE}`,
    "ARG N",
    "RUN --mount=type=cache,target=/cache,id=counter echo $N >> /cache/log && wc -l < /cache/log > /count",
    "RUN --mount=type=cache,target=/priv,sharing=private,id=p touch /priv/x$N && ls /priv | wc -l > /privcount",
    "",
  ].join("\n"));
  for (let n = 1; n <= 3; n++) {
    const out = join(dir, `o${n}.tar`);
    const b = await buildDockerfile(root, ctx, out, ["--opt", `build-arg:N=${n}`]);
    assert.equal(b.code, 0, b.stderr);
    const tar = await readTar(out);
    assert.equal(tar.get("count")?.content?.toString().trim(), String(n), `build ${n} sees the earlier builds' lines`);
    assert.equal(tar.get("privcount")?.content?.toString().trim(), String(n));
  }
  const du = await runGantry(["--root", root, "du", "-v", "--filter", "type==exec.cachemount"]);
  assert.equal(du.code, 0, du.stderr);
  const ids = [...du.stdout.toString().matchAll(/^ID:\s+(\S+)/gm)].map((m) => m[1]);
  assert.equal(ids.length, 2, du.stdout.toString());
  assert.match(du.stdout.toString(), /cached mount \/cache from exec/);
  assert.match(du.stdout.toString(), /Mutable:\s+true/);
  const pr = await runGantry(["--root", root, "prune", "--filter", "type==exec.cachemount"]);
  assert.equal(pr.code, 0, pr.stderr);
  const b = await buildDockerfile(root, ctx, join(dir, "o4.tar"), ["--opt", "build-arg:N=4"]);
  assert.equal(b.code, 0, b.stderr);
  assert.equal((await readTar(join(dir, "o4.tar"))).get("count")?.content?.toString().trim(), "1", "a pruned cache starts empty");
});

test("automatic GC keeps the store under its limit during a loop of builds", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "gc");
  const root = join(dir, "root");
  const ctx = join(dir, "ctx");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), `FROM ${BASE}\nARG N\nRUN head -c 3000000 /dev/urandom > /blob-$N\n`);
  const keepBytes = 10e6;
  for (let n = 0; n < 8; n++) {
    // Each iteration is one engine lifetime, as a CLI build is: GC runs when it closes.
    const c = await openController({ root, gc: { keepBytes } });
    try {
      await c.solve({
        frontend: "dockerfile.v0", frontendAttrs: { "build-arg:N": String(n) }, exports: [], noCache: false,
        session: createDirectSession({ locals: { context: ctx, dockerfile: ctx }, secrets: {} }),
      }, { progress: () => undefined });
    } finally {
      await c.close();
    }
    const c2 = await openController({ root, gc: { enabled: false } });
    try {
      const total = (await c2.diskUsage([])).reduce((s, r) => s + r.size, 0);
      assert.ok(total <= keepBytes, `after build ${n}: ${total} bytes > ${keepBytes}`);
      if (n === 7) assert.ok(total > 3e6, "the newest results stay");
    } finally {
      await c2.close();
    }
  }
});

test("--no-cache-filter re-runs the named stage's steps and keeps the others CACHED", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await workdir(t, "nocachefilter");
  const root = join(dir, "root");
  const ctx = join(dir, "ctx");
  await mkdir(ctx);
  // A random stamp: busybox's date has no %N, so two runs in one second would write the same time.
  await writeFile(join(ctx, "Dockerfile"), [
    `FROM ${BASE} AS base`,
    "RUN cat /proc/sys/kernel/random/uuid > /base.stamp",
    "FROM base AS app",
    "RUN cat /proc/sys/kernel/random/uuid > /app.stamp",
    "",
  ].join("\n"));
  const runStep = (b: Awaited<ReturnType<typeof buildDockerfile>>, stage: string): boolean | undefined =>
    [...b.vertices.values()].find((v) => v.name.startsWith(`[${stage} `) && v.name.includes("RUN"))?.cached;
  const first = await buildDockerfile(root, ctx, join(dir, "1.tar"));
  assert.equal(first.code, 0, first.stderr);
  const filtered = await buildDockerfile(root, ctx, join(dir, "2.tar"), ["--no-cache-filter", "app"]);
  assert.equal(filtered.code, 0, filtered.stderr);
  assert.equal(runStep(filtered, "base"), true, "the base stage's RUN stays CACHED");
  assert.equal(runStep(filtered, "app"), false, "the app stage's RUN runs again");
  const [t1, t2] = [await readTar(join(dir, "1.tar")), await readTar(join(dir, "2.tar"))];
  assert.deepEqual(t2.get("base.stamp")?.content, t1.get("base.stamp")?.content);
  assert.notDeepEqual(t2.get("app.stamp")?.content, t1.get("app.stamp")?.content, "a new container wrote a new stamp");
  // The same through buildctl's spelling, and --no-cache for everything.
  const viaOpt = await buildDockerfile(root, ctx, join(dir, "3.tar"), ["--opt", "no-cache=base"]);
  assert.equal(runStep(viaOpt, "base"), false);
  assert.equal(runStep(viaOpt, "app"), false, "a stage built on a re-run stage runs again too");
  const all = await buildDockerfile(root, ctx, join(dir, "4.tar"), ["--no-cache"]);
  assert.equal(runStep(all, "base"), false);
  assert.equal(runStep(all, "app"), false);
});
