import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, link, lutimes, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, before, test } from "node:test";
import { extract, type Header } from "tar-stream";
import { codeOf, isCanceled } from "../util/errors.js";
import { writeLayerTar } from "./layer-writer.js";

const isRoot = process.getuid?.() === 0;
let dir: string;

interface Seen {
  header: Omit<Header, "pax"> & { pax?: Record<string, string> };
  body: Buffer;
}

async function collect(d: string, opts: Parameters<typeof writeLayerTar>[2] = {}): Promise<{ tar: Buffer; res: Awaited<ReturnType<typeof writeLayerTar>> }> {
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on("data", (c: Buffer) => chunks.push(c));
  const res = await writeLayerTar(d, out, opts);
  return { tar: Buffer.concat(chunks), res };
}

async function readTar(tar: Buffer): Promise<Seen[]> {
  const ex = extract();
  const seen: Seen[] = [];
  const done = (async () => {
    for await (const entry of ex) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      seen.push({ header: entry.header as Seen["header"], body: Buffer.concat(parts) });
    }
  })();
  ex.end(tar);
  await done;
  return seen;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "layer-writer-"));
  await mkdir(join(dir, "etc/sub"), { recursive: true });
  await mkdir(join(dir, "opaque"));
  await writeFile(join(dir, "etc/hosts"), "127.0.0.1 localhost\n");
  await writeFile(join(dir, "etc/sub/big"), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
  await writeFile(join(dir, "opaque/kept"), "kept");
  await writeFile(join(dir, "suid"), "#!/bin/sh\n");
  await chmod(join(dir, "suid"), 0o4755);
  await link(join(dir, "suid"), join(dir, "suid-link"));
  await symlink("etc/hosts", join(dir, "hosts-link"));
  await writeFile(join(dir, "naïve"), "utf8 name");
  const long = "d".repeat(60);
  await mkdir(join(dir, long, long), { recursive: true });
  await writeFile(join(dir, long, long, "f".repeat(120)), "long");
  execFileSync("mkfifo", [join(dir, "fifo")]);
  execFileSync("setfattr", ["-n", "user.text", "-v", "hello", join(dir, "etc/hosts")]);
  execFileSync("setfattr", ["-n", "user.bin", "-v", "0x0180ff00", join(dir, "suid")]);
  if (isRoot) {
    execFileSync("mknod", [join(dir, "etc/deleted"), "c", "0", "0"]);
    execFileSync("mknod", [join(dir, "null"), "c", "1", "3"]);
    execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(dir, "opaque")]);
  }
  await utimes(join(dir, "etc/hosts"), 2_000_000_000, 2_000_000_000);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("writes entries in byte order with modes, links and whiteouts", async () => {
  const { tar, res } = await collect(dir);
  assert.equal(res.size, tar.length);
  assert.equal(res.diffId, `sha256:${createHash("sha256").update(tar).digest("hex")}`);
  const seen = await readTar(tar);
  assert.equal(res.entries, seen.length);
  const names = seen.map((s) => s.header.name);
  const long = "d".repeat(60);
  const expected = [
    `${long}/`, `${long}/${long}/`, `${long}/${long}/${"f".repeat(120)}`,
    "etc/", ...(isRoot ? ["etc/.wh.deleted"] : []), "etc/hosts", "etc/sub/", "etc/sub/big",
    "fifo", "hosts-link", "naïve", ...(isRoot ? ["null"] : []),
    "opaque/", ...(isRoot ? ["opaque/.wh..wh..opq"] : []), "opaque/kept", "suid", "suid-link",
  ];
  assert.deepEqual(names, expected);
  const byName = new Map(seen.map((s) => [s.header.name, s]));
  assert.equal(byName.get("suid")?.header.mode, 0o4755);
  assert.equal(byName.get("suid-link")?.header.type, "link");
  assert.equal(byName.get("suid-link")?.header.linkname, "suid");
  assert.equal(byName.get("hosts-link")?.header.type, "symlink");
  assert.equal(byName.get("hosts-link")?.header.linkname, "etc/hosts");
  assert.equal(byName.get("fifo")?.header.type, "fifo");
  assert.equal(byName.get("etc/sub/big")?.body.length, 3 * 1024 * 1024 + 17);
  assert.equal(byName.get("naïve")?.body.toString(), "utf8 name");
  assert.equal(byName.get("etc/hosts")?.header.pax?.["SCHILY.xattr.user.text"], "hello");
  assert.equal(byName.get("etc/hosts")?.header.mtime?.getTime(), 2_000_000_000_000);
  // Binary xattr values must be written byte for byte (tar-stream's reader decodes them as UTF-8).
  assert.ok(tar.includes(Buffer.concat([Buffer.from("SCHILY.xattr.user.bin="), Buffer.from([1, 0x80, 0xff, 0]), Buffer.from("\n")])));
  if (isRoot) {
    const wh = byName.get("etc/.wh.deleted");
    assert.equal(wh?.header.type, "file");
    assert.equal(wh?.header.size, 0);
    assert.equal(byName.get("null")?.header.type, "character-device");
    assert.equal(byName.get("null")?.header.devmajor, 1);
    assert.equal(byName.get("null")?.header.devminor, 3);
    assert.equal(byName.get("opaque/")?.header.pax?.["SCHILY.xattr.trusted.overlay.opaque"], undefined);
  }
});

test("is deterministic and clamps mtimes to SOURCE_DATE_EPOCH", async () => {
  const a = await collect(dir);
  const b = await collect(dir);
  assert.equal(a.res.diffId, b.res.diffId);
  const clamped = await collect(dir, { sourceDateEpoch: 1_000_000 });
  assert.notEqual(clamped.res.diffId, a.res.diffId);
  for (const s of await readTar(clamped.tar)) assert.ok((s.header.mtime?.getTime() ?? 0) <= 1_000_000_000, s.header.name);
  const fixed = await collect(dir, { fixedMtime: 5 });
  for (const s of await readTar(fixed.tar)) assert.equal(s.header.mtime?.getTime(), 5000, s.header.name);
});

test("GNU tar reads the archive back, xattrs included", { skip: !isRoot && "needs root for devices" }, async () => {
  const { tar } = await collect(dir, { overlayWhiteouts: false });
  const dest = await mkdtemp(join(tmpdir(), "layer-writer-x-"));
  try {
    execFileSync("tar", ["--xattrs", "--xattrs-include=*", "-xpf", "-", "-C", dest], { input: tar });
    const x = execFileSync("getfattr", ["-n", "user.bin", "-e", "hex", join(dest, "suid")]).toString();
    assert.match(x, /user\.bin=0x0180ff00/);
    const ls = execFileSync("ls", ["-l", join(dest, "suid")]).toString();
    assert.match(ls, /^-rwsr-xr-x 2 /);
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});

test("an empty directory gives an empty archive", async () => {
  const empty = await mkdtemp(join(tmpdir(), "layer-writer-e-"));
  try {
    const { tar, res } = await collect(empty);
    assert.equal(res.entries, 0);
    assert.equal(tar.length, 1024);
    assert.ok(tar.every((b) => b === 0));
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test("aborting the signal cancels and destroys the output", async () => {
  const ac = new AbortController();
  // Abort as the first chunk arrives (a timer could fire after a fast machine has written everything),
  // and hold that chunk so the writer cannot finish before it sees the abort.
  const slow = new Writable({
    highWaterMark: 1,
    write: (_c, _e, cb) => {
      ac.abort();
      setTimeout(cb, 50);
    },
  });
  const p = writeLayerTar(dir, slow, { signal: ac.signal });
  await assert.rejects(p, (err: unknown) => isCanceled(err));
  assert.ok(slow.destroyed);
});

test("a missing directory is an error naming it", async () => {
  await assert.rejects(writeLayerTar(join(dir, "nope"), new PassThrough()), /nope/);
});

/**
 * A tree whose archive depends on nothing but this code (modes set explicitly, mtimes clamped or fixed by
 * the options used with it, owned by root): many small files so headers straddle chunk boundaries, a
 * file ending exactly at the first chunk's end, big files, hard links, whiteouts, xattrs, odd names.
 */
async function makeFixedTree(d: string): Promise<void> {
  const dirs = ["etc/sub", "opaque/inner", `${"d".repeat(60)}/${"d".repeat(60)}`, "many"];
  for (const sub of dirs) await mkdir(join(d, sub), { recursive: true });
  await writeFile(join(d, "0-exact"), Buffer.alloc(1024 * 1024 - 512, 3));
  for (let i = 0; i < 300; i++) await writeFile(join(d, "many", `f${i}-${"q".repeat(i % 130)}`), Buffer.alloc((i * 7919) % 9000, i));
  await writeFile(join(d, "etc/hosts"), "127.0.0.1 localhost\n");
  await writeFile(join(d, "etc/sub/big"), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
  await writeFile(join(d, "etc/empty"), "");
  await writeFile(join(d, "opaque/kept"), "kept");
  await writeFile(join(d, "suid"), "#!/bin/sh\n");
  await link(join(d, "suid"), join(d, "suid-link"));
  await writeFile(join(d, "big-linked"), Buffer.alloc(1_500_000, 5));
  await link(join(d, "big-linked"), join(d, "a-big-link"));
  await symlink("etc/hosts", join(d, "hosts-link"));
  await symlink("x".repeat(150), join(d, "long-target-link"));
  for (const name of ["naïve", "日本語", "emoji-😀", "\uE000-private", `${"n".repeat(101)}`]) await writeFile(join(d, name), name);
  await writeFile(join(d, "d".repeat(60), "d".repeat(60), "f".repeat(120)), "long");
  execFileSync("mkfifo", [join(d, "fifo")]);
  execFileSync("mknod", [join(d, "etc/deleted"), "c", "0", "0"]);
  execFileSync("mknod", [join(d, "null"), "c", "1", "3"]);
  execFileSync("mknod", [join(d, "blk"), "b", "259", "300000"]);
  execFileSync("setfattr", ["-n", "user.text", "-v", "hello", join(d, "etc/hosts")]);
  execFileSync("setfattr", ["-n", "security.capability", "-v", "0x0100000200200000000000000000000000000000", join(d, "etc/sub/big")]);
  execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(d, "opaque")]);
  execFileSync("chown", ["-h", "1000:3000000", join(d, "naïve")]);
  execFileSync("chmod", ["-R", "u=rwX,go=rX", d]);
  await chmod(join(d, "suid"), 0o4755);
  await utimes(join(d, "naïve"), 500, 500);
  await lutimes(join(d, "hosts-link"), 1234, 1234);
}

test("gives the same bytes as the previous (single-thread) writer", { skip: !isRoot && "needs root for devices and owners" }, async () => {
  const fixed = await mkdtemp(join(tmpdir(), "layer-writer-f-"));
  try {
    await makeFixedTree(fixed);
    // Digests of the tars the writer before the worker (commit 2ac8005) made of this tree.
    const clamped = await collect(fixed, { sourceDateEpoch: 1_000_000 });
    assert.equal(clamped.res.diffId, "sha256:b18d446c20bd1aef6841f9e88c9cb26a2fafc8cae5193b00144f7c3e4b7635e0");
    assert.equal(clamped.res.size, clamped.tar.length);
    const merged = await collect(fixed, { fixedMtime: 5, overlayWhiteouts: false });
    assert.equal(merged.res.diffId, "sha256:99ed5f510181c44b854d308776d9ec8ed45fbbdd6ca484c35c5df05b194270a6");
  } finally {
    await rm(fixed, { recursive: true, force: true });
  }
});

test("a file whose content is shorter than its size fails naming it", { skip: !isRoot && "needs root to bind-mount" }, async (t) => {
  // A sysfs file claims 4096 bytes and holds a few: bind-mounted into the tree, it looks like a file that
  // shrank between its lstat and its read.
  const d = await mkdtemp(join(tmpdir(), "layer-writer-s-"));
  const target = join(d, "short");
  await writeFile(target, "");
  try {
    try {
      execFileSync("mount", ["--bind", "/sys/kernel/uevent_seqnum", target], { stdio: "ignore" });
    } catch {
      t.skip("cannot bind-mount a sysfs file here");
      return;
    }
    await assert.rejects(writeLayerTar(d, new PassThrough()), (err: unknown) => {
      assert.equal(codeOf(err), "FailedPrecondition");
      assert.match((err as Error).message, /Cannot write short of layer .*: the file changed size while being read \(4096 → \d+ bytes\)/);
      return true;
    });
  } finally {
    execFileSync("umount", [target], { stdio: "ignore" });
    await rm(d, { recursive: true, force: true });
  }
});

test("a failing destination fails the write, naming the layer", async () => {
  const broken = new Writable({ write: (_c, _e, cb) => cb(new Error("disk full")) });
  await assert.rejects(writeLayerTar(dir, broken), (err: unknown) => {
    assert.equal(codeOf(err), "Internal");
    assert.match((err as Error).message, new RegExp(`Cannot write the layer tar of ${dir}: disk full`));
    return true;
  });
  assert.ok(broken.destroyed);
});

test("with end: false the destination stays open, and a second layer can follow", async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const a = await writeLayerTar(dir, out, { end: false });
  const b = await writeLayerTar(dir, out, { end: false });
  assert.equal(out.writableEnded, false);
  assert.equal(a.diffId, b.diffId);
  await new Promise((r) => setImmediate(r));
  assert.equal(Buffer.concat(chunks).length, a.size + b.size);
});
