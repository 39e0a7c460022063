import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync,
  utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { GantryError } from "../../util/errors.js";
import { copy, type CopyOptions } from "./copy.js";
import { listTree, tempDir } from "./testing/fs-fixture.js";

/** The options the Dockerfile frontend sets for COPY. */
const DOCKER: Omit<CopyOptions, "src" | "dest"> = {
  followSymlink: true, dirCopyContents: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true,
};

function put(root: string, files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  }
}

function roots(): { src: string; dest: string } {
  return { src: tempDir("gantry-src-"), dest: tempDir("gantry-dest-") };
}

test("a file into `dir/`, to a new name, and into an existing dir", async () => {
  const r = roots();
  put(r.src, { "f.txt": "f" });
  mkdirSync(join(r.dest, "existing"));
  await copy(r.src, r.dest, { ...DOCKER, src: "f.txt", dest: "/added/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "f.txt", dest: "/renamed.txt" });
  await copy(r.src, r.dest, { ...DOCKER, src: "/f.txt", dest: "/existing" });
  assert.deepEqual(listTree(r.dest), [
    "/added dir 0755 0:0", "/added/f.txt file 0644 0:0 f", "/existing dir 0755 0:0",
    "/existing/f.txt file 0644 0:0 f", "/renamed.txt file 0644 0:0 f",
  ]);
});

test("a directory copies its contents (any dest form) and merges into existing dirs", async () => {
  const r = roots();
  put(r.src, { "src/a.txt": "a", "src/sub/b.txt": "b" });
  mkdirSync(join(r.dest, "tmp"), { mode: 0o1777 });
  chmodSync(join(r.dest, "tmp"), 0o1777);
  put(r.dest, { "existing/keep.txt": "keep" });
  await copy(r.src, r.dest, { ...DOCKER, src: "src", dest: "/contents" });
  await copy(r.src, r.dest, { ...DOCKER, src: "src/", dest: "/contents-slash" });
  await copy(r.src, r.dest, { ...DOCKER, src: "src/.", dest: "/contents-dot/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "src", dest: "/tmp/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "src", dest: "/existing" });
  const tree = listTree(r.dest);
  for (const d of ["/contents", "/contents-slash", "/contents-dot", "/tmp", "/existing"]) {
    assert.ok(tree.includes(`${d}/a.txt file 0644 0:0 a`), d);
    assert.ok(tree.includes(`${d}/sub/b.txt file 0644 0:0 b`), d);
    assert.ok(tree.includes(`${d}/sub dir 0755 0:0`), d);
  }
  assert.ok(tree.includes("/tmp dir 1777 0:0"));
  assert.ok(tree.includes("/existing/keep.txt file 0644 0:0 keep"));
  assert.equal(tree.length, 3 * 4 + 4 + 5);
});

test("without dirCopyContents a directory is copied as itself into an existing dest", async () => {
  const r = roots();
  put(r.src, { "d/x": "x" });
  mkdirSync(join(r.dest, "there"));
  await copy(r.src, r.dest, { src: "/d", dest: "/there", createDestPath: true });
  await copy(r.src, r.dest, { src: "/d", dest: "/new", createDestPath: true });
  assert.deepEqual(listTree(r.dest).map((l) => l.split(" ")[0]), ["/new", "/new/x", "/there", "/there/d", "/there/d/x"]);
});

test("modes, special bits and owners of the sources are kept; mtimes too", async () => {
  const r = roots();
  put(r.src, { "private.txt": "p", "suid": "s", "sgid-dir/in.txt": "i", "closed-dir/hidden.txt": "h" });
  chmodSync(join(r.src, "private.txt"), 0o600);
  chownSync(join(r.src, "private.txt"), 1234, 5678);
  chmodSync(join(r.src, "suid"), 0o4755);
  chmodSync(join(r.src, "sgid-dir"), 0o2750);
  chmodSync(join(r.src, "closed-dir/hidden.txt"), 0o640);
  chmodSync(join(r.src, "closed-dir"), 0o500);
  chownSync(join(r.src, "closed-dir"), 42, 43);
  utimesSync(join(r.src, "suid"), 1000, 2000);
  await copy(r.src, r.dest, { ...DOCKER, src: "/", dest: "/" });
  assert.deepEqual(listTree(r.dest), [
    "/closed-dir dir 0500 42:43", "/closed-dir/hidden.txt file 0640 0:0 h", "/private.txt file 0600 1234:5678 p",
    "/sgid-dir dir 2750 0:0", "/sgid-dir/in.txt file 0644 0:0 i", "/suid file 4755 0:0 s",
  ]);
  assert.equal(statSync(join(r.dest, "suid")).mtimeMs, 2000_000);
});

test("--chown owns everything copied and every dest dir created", async () => {
  const r = roots();
  put(r.src, { "f.txt": "f", "dir/inner.txt": "i", "dir/sub/deep.txt": "d" });
  const owner = { uid: 1000, gid: 2000 };
  await copy(r.src, r.dest, { ...DOCKER, src: "f.txt", dest: "/a/b/", owner });
  await copy(r.src, r.dest, { ...DOCKER, src: "dir", dest: "/by-name-dir/", owner });
  assert.deepEqual(listTree(r.dest), [
    "/a dir 0755 1000:2000", "/a/b dir 0755 1000:2000", "/a/b/f.txt file 0644 1000:2000 f",
    "/by-name-dir dir 0755 1000:2000", "/by-name-dir/inner.txt file 0644 1000:2000 i",
    "/by-name-dir/sub dir 0755 1000:2000", "/by-name-dir/sub/deep.txt file 0644 1000:2000 d",
  ]);
});

test("--chmod: 4750 gives 0750; a dir source's files and subdirs change but not the top dir", async () => {
  const r = roots();
  put(r.src, { "f": "f", "d/x": "x", "d/sub/y": "y", "s": "s" });
  chmodSync(join(r.src, "s"), 0o4700);
  await copy(r.src, r.dest, { ...DOCKER, src: "f", dest: "/f", mode: 0o4750 });
  await copy(r.src, r.dest, { ...DOCKER, src: "d", dest: "/d/", mode: 0o750 });
  // v0.11 replaces only the permission bits: a setuid source stays setuid.
  await copy(r.src, r.dest, { ...DOCKER, src: "s", dest: "/s", mode: 0o755 });
  assert.deepEqual(listTree(r.dest), [
    "/d dir 0755 0:0", "/d/sub dir 0750 0:0", "/d/sub/y file 0750 0:0 y", "/d/x file 0750 0:0 x",
    "/f file 0750 0:0 f", "/s file 4755 0:0 s",
  ]);
  // Without dirCopyContents (plain LLB) the copied directory itself is created by the copy and gets the mode.
  const r2 = roots();
  put(r2.src, { "d/x": "x" });
  await copy(r2.src, r2.dest, { src: "d", dest: "/d", mode: 0o700, createDestPath: true });
  assert.deepEqual(listTree(r2.dest), ["/d dir 0700 0:0", "/d/x file 0700 0:0 x"]);
});

test("a symlink named as the source is followed; symlinks inside directories are kept", async () => {
  const r = roots();
  put(r.src, { "real.txt": "real", "dir/f": "f" });
  symlinkSync("real.txt", join(r.src, "link.txt"));
  symlinkSync("/dir", join(r.src, "dirlink"));
  symlinkSync("../real.txt", join(r.src, "dir/rel"));
  symlinkSync("/nowhere", join(r.src, "dir/dangling"));
  await copy(r.src, r.dest, { ...DOCKER, src: "link.txt", dest: "/out/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "dirlink", dest: "/viadir/" });
  await copy(r.src, r.dest, { src: "link.txt", dest: "/nofollow", createDestPath: true });
  assert.deepEqual(listTree(r.dest), [
    "/nofollow symlink 0777 0:0 real.txt", "/out dir 0755 0:0", "/out/link.txt file 0644 0:0 real",
    "/viadir dir 0755 0:0", "/viadir/dangling symlink 0777 0:0 /nowhere", "/viadir/f file 0644 0:0 f",
    "/viadir/rel symlink 0777 0:0 ../real.txt",
  ]);
});

test("hard links within one copy stay hard links; separate sources become separate files", async () => {
  const r = roots();
  put(r.src, { "a.txt": "shared" });
  mkdirSync(join(r.src, "d"));
  linkSync(join(r.src, "a.txt"), join(r.src, "b.txt"));
  linkSync(join(r.src, "a.txt"), join(r.src, "d/c.txt"));
  await copy(r.src, r.dest, { ...DOCKER, src: ".", dest: "/hl/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "a.txt", dest: "/pair/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "b.txt", dest: "/pair/" });
  assert.deepEqual(listTree(r.dest), [
    "/hl dir 0755 0:0", "/hl/a.txt file 0644 0:0 shared", "/hl/b.txt hardlink 0644 0:0 /hl/a.txt",
    "/hl/d dir 0755 0:0", "/hl/d/c.txt hardlink 0644 0:0 /hl/a.txt",
    "/pair dir 0755 0:0", "/pair/a.txt file 0644 0:0 shared", "/pair/b.txt file 0644 0:0 shared",
  ]);
});

test("copying onto an existing symlink writes through it", async () => {
  const r = roots();
  put(r.src, { "f.txt": "new", "g.txt": "g" });
  put(r.dest, { "target.txt": "old", "realdir/keep": "k" });
  symlinkSync("/target.txt", join(r.dest, "link.txt"));
  symlinkSync("realdir", join(r.dest, "dirlink"));
  await copy(r.src, r.dest, { ...DOCKER, src: "f.txt", dest: "/link.txt" });
  await copy(r.src, r.dest, { ...DOCKER, src: "g.txt", dest: "/dirlink" });
  assert.equal(lstatSync(join(r.dest, "link.txt")).isSymbolicLink(), true);
  assert.equal(readFileSync(join(r.dest, "target.txt"), "utf8"), "new");
  assert.equal(readFileSync(join(r.dest, "realdir/g.txt"), "utf8"), "g");
});

test("a missing source is NotFound with upstream's `\"/x\": not found` text", async () => {
  const r = roots();
  for (const opts of [{ ...DOCKER, src: "/absent-file.txt", dest: "/" }, { src: "absent-file.txt", dest: "/x" }]) {
    await assert.rejects(copy(r.src, r.dest, opts), (err: unknown) => {
      assert.ok(err instanceof GantryError);
      assert.equal(err.code, "NotFound");
      assert.match(err.message, /"\/absent-file\.txt": not found/);
      return true;
    });
  }
});

test("a wildcard matching nothing: NotFound, or nothing done with allowEmptyWildcard", async () => {
  const r = roots();
  put(r.src, { "a.txt": "a" });
  await copy(r.src, r.dest, { ...DOCKER, src: "*.md", dest: "/out/" });
  assert.deepEqual(listTree(r.dest), []);
  await assert.rejects(copy(r.src, r.dest, { ...DOCKER, allowEmptyWildcard: false, src: "*.md", dest: "/out/" }),
    (err: unknown) => err instanceof GantryError && err.code === "NotFound" && err.message.includes('"/*.md": not found'));
  await assert.rejects(copy(r.src, r.dest, { ...DOCKER, src: "nodir/*.md", dest: "/out/" }),
    (err: unknown) => err instanceof GantryError && err.code === "NotFound");
});

test("wildcard sources: *, ?, classes, matching dirs copy their contents, one match to a file name", async () => {
  const r = roots();
  put(r.src, { "a1.txt": "a1", "a2.txt": "a2", "b1.txt": "b1", "b22.txt": "b22", "c.md": "c",
    "dir1/x.txt": "x", "dir2/y.txt": "y", "dir2/deeper/z.txt": "z" });
  await copy(r.src, r.dest, { ...DOCKER, src: "*.txt", dest: "/star/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "a?.txt", dest: "/question/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "[ab]1.txt", dest: "/class/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "dir*", dest: "/dirs/" });
  await copy(r.src, r.dest, { ...DOCKER, src: "*.md", dest: "/single-md" });
  assert.deepEqual(listTree(r.dest).map((l) => l.split(" ")[0]), [
    "/class", "/class/a1.txt", "/class/b1.txt", "/dirs", "/dirs/deeper", "/dirs/deeper/z.txt", "/dirs/x.txt",
    "/dirs/y.txt", "/question", "/question/a1.txt", "/question/a2.txt", "/single-md", "/star", "/star/a1.txt",
    "/star/a2.txt", "/star/b1.txt", "/star/b22.txt",
  ]);
  assert.equal(readFileSync(join(r.dest, "single-md"), "utf8"), "c");
});

test("createDestPath=false needs dest's parent", async () => {
  const r = roots();
  put(r.src, { "f": "f" });
  await assert.rejects(copy(r.src, r.dest, { src: "f", dest: "/a/b/f" }),
    (err: unknown) => err instanceof GantryError && err.code === "NotFound" && err.message.startsWith("failed to stat /a/b/f"));
  await copy(r.src, r.dest, { src: "f", dest: "/f" });
  assert.equal(existsSync(join(r.dest, "f")), true);
});

test("timestamp applies to everything copied and the dirs created", async () => {
  const r = roots();
  put(r.src, { "d/x": "x", "d/s/y": "y" });
  symlinkSync("x", join(r.src, "d/l"));
  const t = new Date("2000-01-01T00:00:00Z");
  await copy(r.src, r.dest, { ...DOCKER, src: "d", dest: "/p/q/", timestamp: t });
  for (const p of ["p", "p/q", "p/q/x", "p/q/s", "p/q/s/y", "p/q/l"]) {
    assert.equal(lstatSync(join(r.dest, p)).mtimeMs, t.getTime(), p);
  }
});

test("type conflicts fail unless alwaysReplaceExistingDestPaths", async () => {
  const r = roots();
  put(r.src, { "d/x/inner": "i", "d/y": "y" });
  put(r.dest, { "out/x": "file in the way", "out/y/z": "dir in the way" });
  await assert.rejects(copy(r.src, r.dest, { ...DOCKER, src: "d", dest: "/out" }),
    (err: unknown) => err instanceof GantryError && err.code === "FailedPrecondition");
  await copy(r.src, r.dest, { ...DOCKER, src: "d", dest: "/out", alwaysReplaceExistingDestPaths: true });
  assert.deepEqual(listTree(r.dest).map((l) => l.split(" ").slice(0, 2).join(" ")),
    ["/out dir", "/out/x dir", "/out/x/inner file", "/out/y file"]);
});

test("source and dest paths cannot escape their roots", async () => {
  const parent = tempDir();
  const src = join(parent, "src");
  const dest = join(parent, "dest");
  put(src, { "etc/passwd": "inside" });
  mkdirSync(dest);
  writeFileSync(join(parent, "secret"), "outside");
  symlinkSync("/../../secret", join(src, "evil"));
  symlinkSync("../../..", join(dest, "up"));
  await assert.rejects(copy(src, dest, { ...DOCKER, src: "../secret", dest: "/a" }), GantryError);
  await assert.rejects(copy(src, dest, { ...DOCKER, src: "evil", dest: "/a" }), GantryError);
  await copy(src, dest, { ...DOCKER, src: "../../etc/passwd", dest: "../../up/x" });
  assert.equal(readFileSync(join(dest, "x"), "utf8"), "inside");
  assert.equal(existsSync(join(parent, "x")), false);
  assert.equal(readFileSync(join(parent, "secret"), "utf8"), "outside");
});

test("FIFOs are recreated", async () => {
  const r = roots();
  mkdirSync(join(r.src, "d"));
  const { execFileSync } = await import("node:child_process");
  execFileSync("mkfifo", ["-m", "0640", join(r.src, "d/pipe")]);
  await copy(r.src, r.dest, { ...DOCKER, src: "d", dest: "/d" });
  const st = lstatSync(join(r.dest, "d/pipe"));
  assert.equal(st.isFIFO(), true);
  assert.equal(st.mode & 0o777, 0o640);
});

test("an aborted signal cancels the copy", async () => {
  const r = roots();
  put(r.src, { "f": "f" });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(copy(r.src, r.dest, { ...DOCKER, src: "f", dest: "/f", signal: ac.signal }),
    (err: unknown) => err instanceof GantryError && err.code === "Canceled");
});
