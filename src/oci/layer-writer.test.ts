import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, before, test } from "node:test";
import { extract, type Header } from "tar-stream";
import { isCanceled } from "../util/errors.js";
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
  const slow = new Writable({ highWaterMark: 1, write: (_c, _e, cb) => setTimeout(cb, 5) });
  const p = writeLayerTar(dir, slow, { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, (err: unknown) => isCanceled(err));
  assert.ok(slow.destroyed);
});

test("a missing directory is an error naming it", async () => {
  await assert.rejects(writeLayerTar(join(dir, "nope"), new PassThrough()), /nope/);
});
