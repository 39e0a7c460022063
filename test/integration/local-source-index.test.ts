// The index a local source keeps of its last copy (session/local-tree-index.ts): every build, also after a
// one-file change (a two-layer head) and after `kill -9` at random moments, must export exactly the client's
// current files; every index on disk must belong to the snapshot it sits in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "./helpers/requires.js";
import { runGantryAndKill } from "./helpers/gantry-cli.js";
import { readTar } from "./helpers/read-tar.js";
import { buildDockerfile, steps } from "./helpers/dockerfile-build.js";

const NEEDS = { root: true, overlay: true } as const;
const FILES = 60;

/** Every index file under the root, with whether its owner is the snapshot record it sits beside. */
async function indexes(root: string): Promise<Array<{ dir: string; entries: number; ownerMatches: boolean }>> {
  const base = join(root, "snapshots", "snapshots");
  const out: Array<{ dir: string; entries: number; ownerMatches: boolean }> = [];
  for (const id of await readdir(base)) {
    const text = await readFile(join(base, id, "local-tree-index"), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const [, owner, count] = text.slice(0, text.indexOf("\n")).split(" ");
    const rec = JSON.parse(await readFile(join(base, id, "record.json"), "utf8").catch(() => "{}")) as { name?: string };
    out.push({ dir: id, entries: Number(count), ownerMatches: rec.name === owner });
  }
  return out;
}

/** Builds and checks the exported /data is exactly the context's data directory now. */
async function buildAndCheck(root: string, ctx: string, out: string, label: string): Promise<Record<string, boolean>> {
  const b = await buildDockerfile(root, ctx, out);
  assert.equal(b.code, 0, `${label}: ${b.stderr.slice(-2000)}`);
  const tar = await readTar(out);
  const files = (await readdir(join(ctx, "data"))).filter((n) => n !== "sub");
  for (const f of files) {
    assert.equal(tar.get(`data/${f}`)?.content?.toString(), await readFile(join(ctx, "data", f), "utf8"), `${label}: data/${f} is current`);
  }
  assert.equal(tar.get("data/sub/lnk")?.linkname, await readFile(join(ctx, "target"), "utf8"), `${label}: the symlink is current`);
  assert.equal([...tar.keys()].filter((k) => k.startsWith("data/")).length, files.length + 2, `${label}: nothing stale or missing`);
  return steps(b);
}

async function retarget(ctx: string, target: string): Promise<void> {
  await rm(join(ctx, "data/sub/lnk"), { force: true });
  await symlink(target, join(ctx, "data/sub/lnk"));
  await writeFile(join(ctx, "target"), target);
}

test("a local source's index: one-file changes, two-layer heads and kills never serve stale files", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await mkdtemp(join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "local-index-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  const ctx = join(dir, "ctx");
  const out = join(dir, "out.tar");
  await mkdir(join(ctx, "data/sub"), { recursive: true });
  for (let i = 0; i < FILES; i++) await writeFile(join(ctx, "data", `f${i}`), `file ${i}\n`);
  await retarget(ctx, "one");
  await writeFile(join(ctx, "Dockerfile"), "FROM scratch\nCOPY data /data\n");

  await buildAndCheck(root, ctx, out, "cold");
  const first = await indexes(root);
  assert.ok(first.some((x) => x.entries >= FILES + 2), `the context's copy is indexed: ${JSON.stringify(first)}`);
  assert.ok(first.every((x) => x.ownerMatches));

  // Same size, later time: found through the index; the head then has two layers and is indexed too.
  await writeFile(join(ctx, "data/f7"), "FILE 7\n");
  await utimes(join(ctx, "data/f7"), new Date(Date.now() + 5000), new Date(Date.now() + 5000));
  assert.equal((await buildAndCheck(root, ctx, out, "one change"))["COPY data /data"], false);
  assert.equal((await buildAndCheck(root, ctx, out, "no change"))["COPY data /data"], true);
  await retarget(ctx, "two");
  await rm(join(ctx, "data/f3"));
  await buildAndCheck(root, ctx, out, "symlink and deletion");
  await writeFile(join(ctx, "data/f3"), "back\n");
  await buildAndCheck(root, ctx, out, "recreated");

  const args = ["--root", root, "build", "--frontend", "dockerfile.v0", "--local", `context=${ctx}`, "--local", `dockerfile=${ctx}`,
    "--progress", "plain", "--output", `type=tar,dest=${join(dir, "killed.tar")}`];
  for (let i = 0; i < 8; i++) {
    await writeFile(join(ctx, "data", `f${(i * 7) % FILES}`), `round ${i}\n`.repeat(i + 1));
    await runGantryAndKill(args, 100 + Math.floor(Math.random() * 1200));
    await buildAndCheck(root, ctx, out, `after kill ${i}`);
  }
  const last = await indexes(root);
  assert.ok(last.length > 0 && last.every((x) => x.ownerMatches), "every index belongs to the snapshot it sits beside");
});
