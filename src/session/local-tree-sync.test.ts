import assert from "node:assert/strict";
import { test } from "node:test";
import { chmod, chown, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyLocalTree } from "./testing/local-tree-copy.js";
import { syncLocalTree } from "./local-tree-sync.js";
import type { LocalSyncOptions } from "./build-session.js";

async function describeTree(dir: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of (await readdir(join(dir, rel))).sort()) {
    const p = rel ? `${rel}/${n}` : n;
    const st = await lstat(join(dir, p));
    const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${Math.round(st.mtimeMs)}`;
    if (st.isDirectory()) {
      out[p] = `dir ${meta}`;
      Object.assign(out, await describeTree(dir, p));
    } else if (st.isSymbolicLink()) out[p] = `-> ${await readlink(join(dir, p))}`;
    else out[p] = `${await readFile(join(dir, p), "utf8")} ${meta} links=${st.nlink}`;
  }
  return out;
}

/** Syncs into `dest` and checks it equals a fresh full copy. */
async function syncAndCompare(src: string, dest: string, opts: LocalSyncOptions = {}): Promise<number> {
  const stats = await syncLocalTree(src, dest, opts);
  const fresh = await mkdtemp(join(tmpdir(), "sync-fresh-"));
  try {
    await copyLocalTree(src, fresh, opts);
    assert.deepEqual(await describeTree(dest), await describeTree(fresh));
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
  return stats.files;
}

test("syncing into an earlier copy gives exactly a fresh copy and moves only changes", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "sync-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, "src");
  const dest = join(root, "dest");
  await mkdir(join(src, "d/e"), { recursive: true });
  await writeFile(join(src, "a"), "a");
  await writeFile(join(src, "d/b"), "b");
  await writeFile(join(src, "d/e/c"), "c");
  await writeFile(join(src, "x.log"), "log");
  await symlink("a", join(src, "lnk"));
  await link(join(src, "a"), join(src, "d/hard"));
  assert.equal(await syncAndCompare(src, dest), 4, "first sync copies every file once (hard link linked)");
  const inoBefore = (await lstat(join(dest, "d/e/c"))).ino;
  assert.equal(await syncAndCompare(src, dest), 0, "nothing changed: nothing copied");
  assert.equal((await lstat(join(dest, "d/e/c"))).ino, inoBefore, "unchanged files are left in place");

  await writeFile(join(src, "d/b"), "b2 longer");
  await rm(join(src, "d/e"), { recursive: true });
  await writeFile(join(src, "d/e"), "now a file");
  await rm(join(src, "lnk"));
  await symlink("d/b", join(src, "lnk"));
  await chmod(join(src, "a"), 0o600);
  assert.equal(await syncAndCompare(src, dest), 3, "b, e and a (mode) are copied again");

  assert.equal(await syncAndCompare(src, dest, { exclude: ["*.log"] }), 0, "an excluded file is deleted");
  await syncAndCompare(src, dest, { include: ["d"] });
  await syncAndCompare(src, dest, { include: ["d/b"], exclude: [] });
  await syncAndCompare(src, dest, { include: ["?/b", "Dockerfile"] });
  await syncAndCompare(src, dest, { include: ["**/b"] });
});

test("entries made in a setgid dest still end up 0:0 (new entries there get its group)", { skip: process.geteuid?.() !== 0 && "needs root" }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), "sync-sgid-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, "src");
  const dest = join(root, "dest");
  await mkdir(join(src, "d"), { recursive: true });
  await writeFile(join(src, "a"), "a");
  await writeFile(join(src, "d/b"), "b");
  await symlink("a", join(src, "lnk"));
  await mkdir(dest);
  await chown(dest, 0, 1234);
  await chmod(dest, 0o2775);
  assert.equal(await syncAndCompare(src, dest), 2);
});

test("with `previous`, lookups read it and writes go to dest: an overlay over the last copy", { skip: process.geteuid?.() !== 0 && "needs root" }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), "sync-previous-"));
  const merged = join(root, "merged");
  t.after(async () => {
    execFileSync("umount", ["-l", merged], { stdio: "ignore" });
    await rm(root, { recursive: true, force: true });
  });
  const src = join(root, "src");
  const lower = join(root, "lower");
  await mkdir(join(src, "d/e"), { recursive: true });
  await writeFile(join(src, "a"), "a");
  await writeFile(join(src, "d/b"), "b");
  await writeFile(join(src, "d/e/c"), "c");
  await symlink("a", join(src, "lnk"));
  await syncLocalTree(src, lower, {});
  const lowerBefore = await describeTree(lower);
  for (const d of ["upper", "work", "merged"]) await mkdir(join(root, d));
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${join(root, "upper")},workdir=${join(root, "work")}`, merged]);

  await writeFile(join(src, "d/b"), "b changed");
  await rm(join(src, "d/e"), { recursive: true });
  await writeFile(join(src, "new"), "new");
  await rm(join(src, "lnk"));
  await symlink("d/b", join(src, "lnk"));
  assert.equal(await syncAndCompare(src, merged, { previous: lower }), 2, "b and new are copied; a is left as it was");
  assert.deepEqual(await describeTree(lower), lowerBefore, "previous is never written");
  assert.deepEqual((await readdir(join(root, "upper"))).sort(), ["d", "lnk", "new"], "only the changes are in the upper layer");
});
