import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GantryError } from "../../util/errors.js";
import { mkdir } from "./mkdir.js";
import { listTree, tempDir } from "./testing/fs-fixture.js";

const T = new Date("2020-01-02T03:04:05Z");

test("mkdir makes exact modes whatever the umask, with owner and timestamp", async () => {
  const root = tempDir();
  const old = process.umask(0o077);
  try {
    await mkdir(root, { path: "/d", mode: 0o775, owner: { uid: 10, gid: 20 }, timestamp: T });
  } finally {
    process.umask(old);
  }
  const st = statSync(join(root, "d"));
  assert.equal(st.mode & 0o7777, 0o775);
  assert.deepEqual([st.uid, st.gid], [10, 20]);
  assert.equal(st.mtimeMs, T.getTime());
});

test("mode keeps only permission bits", async () => {
  const root = tempDir();
  await mkdir(root, { path: "d", mode: 0o4755 });
  assert.equal(statSync(join(root, "d")).mode & 0o7777, 0o755);
});

test("makeParents creates every missing dir with the owner and mode; existing dirs untouched", async () => {
  const root = tempDir();
  mkdirSync(join(root, "a"), { mode: 0o700 });
  await mkdir(root, { path: "/a/b/c", mode: 0o750, makeParents: true, owner: { uid: 5, gid: 6 } });
  assert.deepEqual(listTree(root), ["/a dir 0700 0:0", "/a/b dir 0750 5:6", "/a/b/c dir 0750 5:6"]);
  // Again: nothing to do, no error.
  await mkdir(root, { path: "/a/b/c", mode: 0o700, makeParents: true });
  assert.equal(statSync(join(root, "a/b/c")).mode & 0o777, 0o750);
});

test("without makeParents an existing path is accepted and left alone (upstream behaviour)", async () => {
  const root = tempDir();
  mkdirSync(join(root, "x"), { mode: 0o700 });
  writeFileSync(join(root, "f"), "");
  await mkdir(root, { path: "/x", mode: 0o755, owner: { uid: 1, gid: 1 } });
  await mkdir(root, { path: "/f", mode: 0o755 });
  assert.deepEqual(listTree(root), ["/f file 0644 0:0 ", "/x dir 0700 0:0"]);
});

test("a missing parent without makeParents is NotFound with upstream's wording", async () => {
  const root = tempDir();
  await assert.rejects(mkdir(root, { path: "/a/b", mode: 0o755 }), (err: unknown) => {
    assert.ok(err instanceof GantryError);
    assert.equal(err.code, "NotFound");
    assert.equal(err.message, "mkdir /a/b: no such file or directory");
    return true;
  });
});

test("a file in the way of makeParents is `not a directory`", async () => {
  const root = tempDir();
  writeFileSync(join(root, "f"), "");
  await assert.rejects(mkdir(root, { path: "/f/sub", mode: 0o755, makeParents: true }),
    (err: unknown) => err instanceof GantryError && err.code === "FailedPrecondition" && err.message === "mkdir /f: not a directory");
});

test("paths cannot escape the root through `..` or symlinks", async () => {
  const parent = tempDir();
  const root = join(parent, "root");
  mkdirSync(root);
  symlinkSync("/", join(root, "toroot"));
  symlinkSync("../../..", join(root, "up"));
  await mkdir(root, { path: "../../escaped1", mode: 0o755 });
  await mkdir(root, { path: "/toroot/escaped2", mode: 0o755 });
  await mkdir(root, { path: "/up/escaped3/x", mode: 0o755, makeParents: true });
  assert.equal(existsSync(join(parent, "escaped1")), false);
  assert.deepEqual(listTree(root).filter((l) => l.includes("escaped")).map((l) => l.split(" ")[0]),
    ["/escaped1", "/escaped2", "/escaped3", "/escaped3/x"]);
});
