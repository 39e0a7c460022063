import assert from "node:assert/strict";
import { test } from "node:test";
import { chmod, chown, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyLocalTree } from "./testing/local-tree-copy.js";
import { eachKindOfChange } from "./testing/each-kind-of-change.js";
import { syncLocalTree } from "./local-tree-sync.js";
import type { LocalSyncOptions, LocalSyncStats } from "./build-session.js";
import { describeEntry, parseLocalTreeIndex, readLocalTreeIndex, writeLocalTreeIndex, type LocalTreeIndex } from "./local-tree-index.js";

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

/** Syncs into `dest` and checks it equals a fresh full copy (and that the index it returns describes dest). */
async function syncAndCompare(src: string, dest: string, opts: LocalSyncOptions = {}): Promise<LocalSyncStats> {
  const stats = await syncLocalTree(src, dest, opts);
  const fresh = await mkdtemp(join(tmpdir(), "sync-fresh-"));
  try {
    await copyLocalTree(src, fresh, opts);
    assert.deepEqual(await describeTree(dest), await describeTree(fresh));
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
  if (stats.index) assert.deepEqual(listingOf(stats.index), await indexOfDisk(dest), "the index describes dest");
  return stats;
}

/** What an index would say of `dir`, read from disk: "dir/name" → description. */
async function indexOfDisk(dir: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of await readdir(join(dir, rel))) {
    const p = rel ? `${rel}/${n}` : n;
    const st = await lstat(join(dir, p));
    out[p] = describeEntry(st, st.isSymbolicLink() ? await readlink(join(dir, p)) : undefined, true);
    if (st.isDirectory()) Object.assign(out, await indexOfDisk(dir, p));
  }
  return out;
}

function listingOf(index: LocalTreeIndex): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [d, listing] of index.dirs()) for (const [n, desc] of listing) out[d ? `${d}/${n}` : n] = desc;
  return out;
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
  assert.equal((await syncAndCompare(src, dest)).files, 4, "first sync copies every file once (hard link linked)");
  const inoBefore = (await lstat(join(dest, "d/e/c"))).ino;
  assert.equal((await syncAndCompare(src, dest)).files, 0, "nothing changed: nothing copied");
  assert.equal((await lstat(join(dest, "d/e/c"))).ino, inoBefore, "unchanged files are left in place");

  await writeFile(join(src, "d/b"), "b2 longer");
  await rm(join(src, "d/e"), { recursive: true });
  await writeFile(join(src, "d/e"), "now a file");
  await rm(join(src, "lnk"));
  await symlink("d/b", join(src, "lnk"));
  await chmod(join(src, "a"), 0o600);
  assert.equal((await syncAndCompare(src, dest)).files, 3, "b, e and a (mode) are copied again");

  assert.equal((await syncAndCompare(src, dest, { exclude: ["*.log"] })).files, 0, "an excluded file is deleted");
  await syncAndCompare(src, dest, { include: ["d"] });
  await syncAndCompare(src, dest, { include: ["d/b"], exclude: [] });
  await syncAndCompare(src, dest, { include: ["?/b", "Dockerfile"] });
  await syncAndCompare(src, dest, { include: ["**/b"] });
  // (Not compared: the followed target's parent directory gets the time of its making, in the oracle too.)
  const followed = await syncLocalTree(src, dest, { followPaths: ["lnk"] });
  assert.equal(followed.index, undefined, "a followed symlink's target outside the walk: no index, dest is not as the walk saw it");
  assert.ok((await syncAndCompare(src, dest, {})).index);
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
  assert.equal((await syncAndCompare(src, dest)).files, 2);
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
  assert.equal((await syncAndCompare(src, merged, { previous: lower })).files, 2, "b and new are copied; a is left as it was");
  assert.deepEqual(await describeTree(lower), lowerBefore, "previous is never written");
  assert.deepEqual((await readdir(join(root, "upper"))).sort(), ["d", "lnk", "new"], "only the changes are in the upper layer");
});

test("a sync with the last sync's index compares with it instead of dest, and finds every kind of change", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "sync-index-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, "src");
  const dest = join(root, "dest");
  await mkdir(join(src, "d/e"), { recursive: true });
  await mkdir(join(src, "gone/deep"), { recursive: true });
  for (const [p, body] of [["a", "a"], ["d/b", "b"], ["d/e/c", "c"], ["x.log", "log"], ["gone/deep/f", "f"], ["m", "mode"], ["t", "type"]]) {
    await writeFile(join(src, p), body);
  }
  await symlink("a", join(src, "lnk"));
  let index = (await syncLocalTree(src, dest, {})).index;
  assert.ok(index, "a sync returns the index of what it left");
  assert.equal(index.size, 12);

  // Proof that dest is not looked at: a dest-only change the index does not know of stays as it is.
  await utimes(join(dest, "a"), new Date(1_000_000), new Date(1_000_000));
  let r = await syncLocalTree(src, dest, { previousIndex: index });
  assert.equal(r.files, 0, "nothing changed in the source: nothing copied");
  assert.equal(Math.round((await lstat(join(dest, "a"))).mtimeMs), 1_000_000, "dest was not compared");
  await syncLocalTree(src, dest, {}); // put `a` right again (the index describes the source)
  index = r.index;

  const mtimeOf = async (p: string): Promise<number> => (await lstat(join(src, p))).mtimeMs;
  // Same size, new content and time; a size change with the time kept; a mode change; a file that becomes
  // a directory; a symlink to a new target; a deleted tree; a new directory with a file.
  const bTime = await mtimeOf("d/b");
  await writeFile(join(src, "d/b"), "B");
  await utimes(join(src, "d/b"), new Date(bTime + 5000), new Date(bTime + 5000));
  const cTime = await mtimeOf("d/e/c");
  await writeFile(join(src, "d/e/c"), "c longer");
  await utimes(join(src, "d/e/c"), new Date(cTime), new Date(cTime));
  await chmod(join(src, "m"), 0o600);
  await rm(join(src, "t"));
  await mkdir(join(src, "t"));
  await writeFile(join(src, "t/inner"), "inner");
  await rm(join(src, "lnk"));
  await symlink("d/b", join(src, "lnk"));
  await rm(join(src, "gone"), { recursive: true });
  await mkdir(join(src, "new/dir"), { recursive: true });
  await writeFile(join(src, "new/dir/n"), "n");
  r = await syncAndCompare(src, dest, { previousIndex: index });
  assert.equal(r.files, 5, "b, c, m, t/inner and new/dir/n are copied");
  index = r.index;

  r = await syncAndCompare(src, dest, { previousIndex: index, exclude: ["*.log", "new"] });
  assert.equal(r.files, 0, "an excluded file or directory is deleted, nothing copied");
  index = r.index;
  r = await syncAndCompare(src, dest, { previousIndex: index, include: ["d", "x.log", "new"] });
  assert.equal(r.files, 2, "re-included x.log and new/dir/n come back");
  index = r.index;
  r = await syncAndCompare(src, dest, { previousIndex: index });
  assert.equal(r.files, 3, "everything else comes back: a, m and t/inner (and lnk)");
  r = await syncAndCompare(src, dest, { previousIndex: r.index });
  assert.equal(r.files, 0);
});

test("a directory's own mode and time change is seen through the index", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "sync-index-dir-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, "src");
  const dest = join(root, "dest");
  await mkdir(join(src, "d/e"), { recursive: true });
  await writeFile(join(src, "d/e/f"), "f");
  const first = await syncLocalTree(src, dest, {});
  await chmod(join(src, "d"), 0o750);
  await utimes(join(src, "d/e"), new Date(2_000_000), new Date(2_000_000));
  const r = await syncAndCompare(src, dest, { previousIndex: first.index });
  assert.equal(r.files, 0);
  assert.equal((await lstat(join(dest, "d"))).mode & 0o7777, 0o750);
  assert.equal(Math.round((await lstat(join(dest, "d/e"))).mtimeMs), 2_000_000);
  assert.equal(r.index?.dir("d")?.get("e"), `d755:2000000`);
});

test("the index survives a write and read, and a torn, altered or foreign one is refused", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "sync-index-file-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, "src");
  await mkdir(join(src, "d"), { recursive: true });
  await writeFile(join(src, "a"), "a");
  await writeFile(join(src, "d/name with\nnewline and\ttab"), "b");
  await symlink("target with spaces", join(src, "lnk"));
  const index = (await syncLocalTree(src, join(root, "dest"), {})).index;
  assert.ok(index);
  const file = join(root, "idx");
  await writeLocalTreeIndex(file, index, "ref-1");
  const back = await readLocalTreeIndex(file, "ref-1");
  assert.ok(back);
  assert.deepEqual([...back.dirs()].map(([d, l]) => [d, [...l]]), [...index.dirs()].map(([d, l]) => [d, [...l]]));
  assert.equal(back.dir("")?.get("lnk")?.endsWith(":target with spaces"), true);
  assert.deepEqual(await readdir(root), ["dest", "idx", "src"], "no temporary file is left");

  const text = await readFile(file, "utf8");
  assert.equal(await readLocalTreeIndex(file, "ref-2"), undefined, "another ref's index is not used");
  assert.equal(await readLocalTreeIndex(join(root, "missing"), "ref-1"), undefined);
  assert.equal(parseLocalTreeIndex(text.slice(0, -3), "ref-1"), undefined, "truncated");
  assert.equal(parseLocalTreeIndex(text.slice(0, text.indexOf("\n")), "ref-1"), undefined, "body missing");
  assert.equal(parseLocalTreeIndex(text.replace("f644:1:", "f644:2:"), "ref-1"), undefined, "altered");
  assert.equal(parseLocalTreeIndex("", "ref-1"), undefined);
  assert.equal(parseLocalTreeIndex(text.replace("/1 ", "/2 "), "ref-1"), undefined, "another format version");
  // A body with a consistent digest but a directory entry without its listing is refused too.
  const body = "/\0d\0d755:1";
  const digest = createHash("sha256").update(body).digest("hex");
  assert.equal(parseLocalTreeIndex(`gantry-local-tree-index/1 ref-1 1 ${digest}\n${body}`, "ref-1"), undefined);
  const fileBody = "/\0a\0f644:1:1";
  const fileDigest = createHash("sha256").update(fileBody).digest("hex");
  assert.equal(parseLocalTreeIndex(`gantry-local-tree-index/1 ref-1 2 ${fileDigest}\n${fileBody}`, "ref-1"), undefined, "wrong count");
  assert.equal(parseLocalTreeIndex(`gantry-local-tree-index/1 ref-1 1 ${fileDigest}\n${fileBody}`, "ref-1")?.dir("")?.get("a"), "f644:1:1");
});

test("with openDest and an index, an unchanged source never opens dest; each kind of change opens it once and arrives", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "sync-lazy-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, "src");
  await mkdir(join(src, "d/e"), { recursive: true });
  for (const [p, body] of [["a", "a"], ["d/b", "b"], ["d/e/c", "c"], ["x.log", "log"], ["t", "t"], ["real", "r"]]) await writeFile(join(src, p), body);
  await symlink("a", join(src, "lnk"));
  await symlink("real", join(src, "Dockerfile"));
  let n = 0;
  let base = join(root, "base");
  let index = (await syncLocalTree(src, base, {})).index;
  /** A sync into a new dest that, when opened, holds a copy of `base` (as a snapshot on it would). */
  const lazy = async (opts: LocalSyncOptions = {}): Promise<{ opened: number; dir: string; index?: LocalTreeIndex }> => {
    const dest = join(root, `dest${++n}`);
    let opened = 0;
    const openDest = async (): Promise<void> => {
      opened++;
      execFileSync("cp", ["-a", base, dest]);
    };
    const r = await syncLocalTree(src, dest, { ...opts, previousIndex: index, openDest });
    const dir = opened > 0 ? dest : base;
    if (opened === 0) await assert.rejects(lstat(dest), { code: "ENOENT" }, "dest is never made");
    const fresh = join(root, `fresh${n}`);
    await copyLocalTree(src, fresh, opts);
    assert.deepEqual(await describeTree(dir), await describeTree(fresh));
    if (r.index) assert.deepEqual(listingOf(r.index), await indexOfDisk(dir), "the index describes the result");
    return { opened, dir, index: r.index };
  };
  const step = async (label: string, opts: LocalSyncOptions = {}): Promise<void> => {
    const changed = await lazy(opts);
    assert.equal(changed.opened, 1, `${label}: dest opened once`);
    base = changed.dir;
    index = changed.index;
    if (index) assert.equal((await lazy(opts)).opened, 0, `${label}: nothing to do the next time`);
  };
  assert.equal((await lazy()).opened, 0, "no change: dest never opened");
  await eachKindOfChange(src, (label) => step(label));
  await step("an exclude pattern", { exclude: ["t"] });
  await step("an include pattern", { include: ["d", "Dockerfile", "real"] });
  // The walk already put the followed target in place: following it costs no open.
  assert.equal((await lazy({ include: ["d", "Dockerfile", "real"], followPaths: ["Dockerfile"] })).opened, 0);
  await step("no pattern");
});
