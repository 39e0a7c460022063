import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sendDiffCopy } from "./diffcopy-sender.js";
import { receiveDiffCopy, type ReceiveStats } from "./diffcopy-receiver.js";
import type { WalkOptions } from "./diffcopy-walk.js";
import { createPacketConnPair } from "./testing/memory-pipe.js";

const isRoot = process.getuid?.() === 0;

async function sync(src: string, dest: string, opts: WalkOptions = {}): Promise<ReceiveStats> {
  const [a, b] = createPacketConnPair();
  const [, received] = await Promise.all([sendDiffCopy(a, src, opts), receiveDiffCopy(b, dest)]);
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
