import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sendDiffCopy } from "./diffcopy-sender.js";
import { receiveDiffCopy, type ReceiveStats } from "./diffcopy-receiver.js";
import type { WalkOptions } from "./diffcopy-walk.js";
import { createPacketConnPair } from "./testing/memory-pipe.js";
import { eachKindOfChange } from "./testing/each-kind-of-change.js";
import { parseLocalTreeIndex, serializeLocalTreeIndex, type LocalTreeIndex } from "./local-tree-index.js";

const isRoot = process.getuid?.() === 0;

async function sync(src: string, dest: string, opts: WalkOptions = {}, previousIndex?: LocalTreeIndex): Promise<ReceiveStats> {
  const [a, b] = createPacketConnPair();
  const [, received] = await Promise.all([sendDiffCopy(a, src, opts), receiveDiffCopy(b, dest, { previousIndex })]);
  return received;
}

async function makeTree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "gantry-diffcopy-src-"));
  await mkdir(join(root, "dir/sub"), { recursive: true });
  await mkdir(join(root, "empty"));
  await writeFile(join(root, "a.txt"), "alpha\n");
  await writeFile(join(root, "dir/b.bin"), Buffer.alloc(200_000, 7)); // several DATA chunks
  await writeFile(join(root, "dir/sub/c.sh"), "#!/bin/sh\necho c\n");
  await chmod(join(root, "dir/sub/c.sh"), 0o755);
  await writeFile(join(root, "secret"), "s");
  await chmod(join(root, "secret"), 0o600);
  await writeFile(join(root, "suid"), "x");
  await chmod(join(root, "suid"), 0o4755);
  await chmod(join(root, "empty"), 0o1777);
  await symlink("dir/sub/c.sh", join(root, "link-to-c"));
  await symlink("/nowhere", join(root, "dangling"));
  await link(join(root, "a.txt"), join(root, "dir/hard-a"));
  await writeFile(join(root, "build.log"), "log");
  if (isRoot) await chown(join(root, "a.txt"), 1234, 5678);
  await utimes(join(root, "dir/sub"), 1_600_000_000, 1_600_000_000);
  return root;
}

interface Entry { type: string; mode: number; size: number; mtime: bigint; uid: number; gid: number; link?: string; data?: string; ino: bigint }

async function snapshot(root: string, rel = ""): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  for (const name of await readdir(join(root, rel))) {
    const p = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, p), { bigint: true });
    const type = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "file";
    const e: Entry = { type, mode: Number(st.mode) & 0o7777, size: type === "dir" ? 0 : Number(st.size), mtime: st.mtimeNs, uid: Number(st.uid), gid: Number(st.gid), ino: st.ino };
    if (type === "symlink") e.link = await readlink(join(root, p));
    if (type === "file") e.data = (await readFile(join(root, p))).toString("base64");
    out.set(p, e);
    if (type === "dir") for (const [k, v] of await snapshot(root, p)) out.set(k, v);
  }
  return out;
}

function assertSameTree(src: Map<string, Entry>, dest: Map<string, Entry>): void {
  assert.deepEqual([...dest.keys()].sort(), [...src.keys()].sort());
  for (const [p, s] of src) {
    const d = dest.get(p)!;
    assert.equal(d.type, s.type, p);
    if (s.type !== "symlink") assert.equal(d.mode.toString(8), s.mode.toString(8), `mode of ${p}`);
    assert.equal(d.size, s.size, `size of ${p}`);
    assert.equal(d.link, s.link, p);
    assert.equal(d.data, s.data, p);
    const dt = d.mtime - s.mtime;
    assert.ok(dt < 2000n && dt > -2000n, `mtime of ${p}: ${d.mtime} vs ${s.mtime}`);
    if (isRoot) assert.deepEqual([d.uid, d.gid], [s.uid, s.gid], `owner of ${p}`);
  }
}

test("a tree round-trips with modes, owners, times, symlinks and hard links", async () => {
  const src = await makeTree();
  const dest = await mkdtemp(join(tmpdir(), "gantry-diffcopy-dst-"));
  try {
    const stats = await sync(src, dest);
    assert.equal(stats.files, 6); // a.txt, build.log, b.bin, c.sh, secret, suid; hard-a is linked, not sent
    const s = await snapshot(src);
    const d = await snapshot(dest);
    assertSameTree(s, d);
    assert.equal(d.get("dir/hard-a")!.ino, d.get("a.txt")!.ino, "hard link kept");
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test("a second sync transfers only the edited file and removes what the source no longer has", async () => {
  const src = await makeTree();
  const dest = await mkdtemp(join(tmpdir(), "gantry-diffcopy-dst-"));
  try {
    await sync(src, dest);
    await writeFile(join(src, "dir/sub/c.sh"), "#!/bin/sh\necho changed\n");
    await rm(join(src, "build.log"));
    await writeFile(join(dest, "stray"), "not in the source");
    await mkdir(join(dest, "stray-dir/x"), { recursive: true });
    const stats = await sync(src, dest);
    assert.equal(stats.files, 1);
    assert.equal(stats.bytes, "#!/bin/sh\necho changed\n".length);
    assertSameTree(await snapshot(src), await snapshot(dest));
    // A type change: file → directory, symlink → file.
    await rm(join(src, "a.txt"));
    await mkdir(join(src, "a.txt"));
    await writeFile(join(src, "a.txt/inner"), "i");
    await rm(join(src, "link-to-c"));
    await writeFile(join(src, "link-to-c"), "now a file");
    const third = await sync(src, dest);
    assert.equal(third.files, 2);
    assertSameTree(await snapshot(src), await snapshot(dest));
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test("exclude patterns, exceptions and include patterns filter the transfer", async () => {
  const src = await makeTree();
  const dest = await mkdtemp(join(tmpdir(), "gantry-diffcopy-dst-"));
  try {
    await sync(src, dest, { exclude: ["*.log", "dir", "!dir/sub/c.sh"] });
    const names = [...(await snapshot(dest)).keys()].sort();
    assert.deepEqual(names, ["a.txt", "dangling", "dir", "dir/sub", "dir/sub/c.sh", "empty", "link-to-c", "secret", "suid"]);
    // Include narrows the next sync; the receiver deletes the rest. Parents come along.
    await sync(src, dest, { include: ["dir/sub/*.sh", "secret"] });
    assert.deepEqual([...(await snapshot(dest)).keys()].sort(), ["dir", "dir/sub", "dir/sub/c.sh", "secret"]);
    // The parent directory keeps its own metadata even though it did not match.
    assert.equal((await lstat(join(dest, "dir/sub"))).mtimeMs, 1_600_000_000_000);
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test("follow paths bring a symlink's target along", async () => {
  const src = await makeTree();
  const dest = await mkdtemp(join(tmpdir(), "gantry-diffcopy-dst-"));
  try {
    await sync(src, dest, { followPaths: ["link-to-c"] });
    assert.deepEqual([...(await snapshot(dest)).keys()].sort(), ["dir", "dir/sub", "dir/sub/c.sh", "link-to-c"]);
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test("a missing source fails both ends with the sender's reason", async () => {
  const dest = await mkdtemp(join(tmpdir(), "gantry-diffcopy-dst-"));
  try {
    const [a, b] = createPacketConnPair();
    const [sent, received] = await Promise.allSettled([sendDiffCopy(a, join(dest, "nope")), receiveDiffCopy(b, dest)]);
    assert.equal(sent.status, "rejected");
    assert.equal(received.status, "rejected");
    assert.match(String((received as PromiseRejectedResult).reason), /sender aborted.*ENOENT/);
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});

/** Every entry's ctime: any write, chmod, chown, utimes or link change moves it. */
async function ctimes(root: string): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>([["", (await lstat(root, { bigint: true })).ctimeNs]]);
  for (const p of (await snapshot(root)).keys()) out.set(p, (await lstat(join(root, p), { bigint: true })).ctimeNs);
  return out;
}

/** Checks that `index` lists exactly what is under `root`, each entry with its type, mode, size, time and owner. */
async function assertIndexMatchesDisk(index: LocalTreeIndex, root: string): Promise<void> {
  const disk = await snapshot(root);
  const listed = new Map<string, string>();
  for (const [dir, listing] of index.dirs()) for (const [name, desc] of listing) listed.set(dir ? `${dir}/${name}` : name, desc);
  assert.deepEqual([...listed.keys()].sort(), [...disk.keys()].sort());
  for (const [p, desc] of listed) {
    const d = disk.get(p)!;
    const m = /^([fhdl])([0-7]*):(?:([0-9]+):)?([0-9]+)n(?::([0-9]+):([0-9]+))?/.exec(desc);
    assert.ok(m, `description of ${p}: ${desc}`);
    const type = { f: "file", h: "file", d: "dir", l: "symlink" }[m[1]];
    assert.equal(d.type, type, p);
    if (type !== "symlink") assert.equal(d.mode.toString(8), m[2], `mode of ${p}`);
    if (m[1] === "f") assert.equal(String(d.size), m[3], `size of ${p}`);
    const dt = d.mtime - BigInt(m[4]);
    assert.ok(dt < 2500n && dt > -2500n, `mtime of ${p}: ${d.mtime} vs ${m[4]}`);
    if (isRoot) assert.deepEqual([String(d.uid), String(d.gid)], [m[5], m[6]], `owner of ${p}`);
    if (type === "symlink") assert.ok(desc.endsWith(`:${d.link}`), `target of ${p}`);
  }
}

test("the receiver returns an index of what it left, which survives serialization", async () => {
  const src = await makeTree();
  const dest = await mkdtemp(join(tmpdir(), "gantry-diffcopy-dst-"));
  try {
    const first = await sync(src, dest, { exclude: ["*.log"] });
    assert.ok(first.index);
    await assertIndexMatchesDisk(first.index, dest);
    const again = parseLocalTreeIndex(serializeLocalTreeIndex(first.index, "ref1"), "ref1");
    assert.ok(again, "the index parses back");
    assert.equal(again.size, first.index.size);
    // An index from a sync that compared with dest (no index given) is the same.
    const second = await sync(src, dest, { exclude: ["*.log"] });
    assert.equal(second.files, 0);
    assert.equal(serializeLocalTreeIndex(second.index!, "r"), serializeLocalTreeIndex(first.index, "r"));
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test("a no-change sync through the index writes nothing and does not read dest", async () => {
  const src = await makeTree();
  const dest = await mkdtemp(join(tmpdir(), "gantry-diffcopy-dst-"));
  try {
    const first = await sync(src, dest);
    const before = await ctimes(dest);
    const second = await sync(src, dest, {}, first.index);
    assert.deepEqual([second.files, second.bytes], [0, 0]);
    assert.deepEqual(await ctimes(dest), before, "nothing in dest was written");
    await assertIndexMatchesDisk(second.index!, dest);
    // The index is trusted: a file removed from dest behind its back is not noticed, so dest was not looked at.
    await rm(join(dest, "secret"));
    const third = await sync(src, dest, {}, second.index);
    assert.equal(third.files, 0);
    assert.equal((await readdir(dest)).includes("secret"), false);
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test("changes are found through the index: edits, deletions, type changes, modes and times", async () => {
  const src = await makeTree();
  const dest = await mkdtemp(join(tmpdir(), "gantry-diffcopy-dst-"));
  try {
    let index = (await sync(src, dest)).index;
    await writeFile(join(src, "dir/sub/c.sh"), "#!/bin/sh\necho changed\n");
    await rm(join(src, "build.log"));
    await chmod(join(src, "secret"), 0o640);
    await utimes(join(src, "dir/b.bin"), 1_500_000_000, 1_500_000_000);
    await rm(join(src, "link-to-c"));
    await symlink("a.txt", join(src, "link-to-c"));
    const second = await sync(src, dest, {}, index);
    // c.sh edited; b.bin's time and secret's mode differ, so both are sent again as fsutil would.
    assert.equal(second.files, 3);
    assertSameTree(await snapshot(src), await snapshot(dest));
    await assertIndexMatchesDisk(second.index!, dest);
    index = second.index;
    await rm(join(src, "a.txt"));
    await mkdir(join(src, "a.txt"));
    await writeFile(join(src, "a.txt/inner"), "i");
    await rm(join(src, "empty"), { recursive: true });
    await writeFile(join(src, "empty"), "now a file");
    await mkdir(join(src, "new/deeper"), { recursive: true });
    await writeFile(join(src, "new/deeper/n"), "n");
    const third = await sync(src, dest, {}, index);
    // a.txt/inner, empty, new/deeper/n, and dir/hard-a: now the first name of a.txt's old inode, so sent whole.
    assert.equal(third.files, 4);
    assertSameTree(await snapshot(src), await snapshot(dest));
    await assertIndexMatchesDisk(third.index!, dest);
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test("with openDest, an unchanged listing never opens dest, and each kind of change opens it once and arrives", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-diffcopy-lazy-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, "src");
  await mkdir(join(src, "d/e"), { recursive: true });
  for (const [p, body] of [["a", "a"], ["d/b", "b"], ["d/e/c", "c"], ["x.log", "log"], ["t", "t"]]) await writeFile(join(src, p), body);
  await symlink("a", join(src, "lnk"));
  let n = 0;
  let base = join(root, "base");
  let index = (await sync(src, base)).index;
  /** A receive into a new dest that, when opened, holds a copy of `base` (as a snapshot on it would). */
  const lazy = async (opts: WalkOptions = {}): Promise<{ opened: number; dir: string; r: ReceiveStats }> => {
    const dest = join(root, `dest${++n}`);
    let opened = 0;
    const [a, b] = createPacketConnPair();
    const openDest = async (): Promise<void> => {
      opened++;
      execFileSync("cp", ["-a", base, dest]);
    };
    const [, r] = await Promise.all([sendDiffCopy(a, src, opts), receiveDiffCopy(b, dest, { previousIndex: index, openDest })]);
    const dir = opened > 0 ? dest : base;
    if (opened === 0) await assert.rejects(lstat(dest), { code: "ENOENT" }, "dest is never made");
    const fresh = join(root, `fresh${n}`);
    await sync(src, fresh, opts);
    assertSameTree(await snapshot(fresh), await snapshot(dir));
    await assertIndexMatchesDisk(r.index!, dir);
    return { opened, dir, r };
  };
  const step = async (label: string, opts: WalkOptions = {}): Promise<void> => {
    const changed = await lazy(opts);
    assert.equal(changed.opened, 1, `${label}: dest opened once`);
    base = changed.dir;
    index = changed.r.index;
    assert.equal((await lazy(opts)).opened, 0, `${label}: nothing to do the next time`);
  };
  assert.equal((await lazy()).opened, 0, "no change: dest never opened");
  await eachKindOfChange(src, (label) => step(label));
  await step("an exclude pattern", { exclude: ["t"] });
  await step("an include pattern", { include: ["d"] });
  await step("no pattern");
});
