import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GantryError } from "../../util/errors.js";
import { mkfile } from "./mkfile.js";
import { listTree, tempDir } from "./testing/fs-fixture.js";

const T = new Date("2021-05-06T07:08:09Z");

test("mkfile writes data with the exact mode, owner and timestamp", async () => {
  const root = tempDir();
  const old = process.umask(0o022);
  try {
    await mkfile(root, { path: "/f", mode: 0o664, data: "hello\n", owner: { uid: 7, gid: 8 }, timestamp: T });
  } finally {
    process.umask(old);
  }
  assert.deepEqual(listTree(root), ["/f file 0664 7:8 hello\n"]);
  assert.equal(statSync(join(root, "f")).mtimeMs, T.getTime());
});

test("an existing file is truncated and keeps its mode", async () => {
  const root = tempDir();
  writeFileSync(join(root, "f"), "a long old content");
  await mkfile(root, { path: "f", mode: 0o600, data: new Uint8Array([0x41]) });
  assert.deepEqual(listTree(root), ["/f file 0644 0:0 A"]);
});

test("writes through a symlink, staying inside the root", async () => {
  const parent = tempDir();
  const root = join(parent, "root");
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(parent, "victim"), "safe");
  symlinkSync("/etc/real", join(root, "link"));
  symlinkSync("../../../victim", join(root, "escape"));
  await mkfile(root, { path: "/link", mode: 0o644, data: "via link" });
  await mkfile(root, { path: "/escape", mode: 0o644, data: "contained" });
  assert.equal(readFileSync(join(root, "etc/real"), "utf8"), "via link");
  assert.equal(readFileSync(join(root, "victim"), "utf8"), "contained");
  assert.equal(readFileSync(join(parent, "victim"), "utf8"), "safe");
});

test("errors name the path: missing parent, directory in the way", async () => {
  const root = tempDir();
  mkdirSync(join(root, "d"));
  await assert.rejects(mkfile(root, { path: "/nope/f", mode: 0o644, data: "" }),
    (err: unknown) => err instanceof GantryError && err.code === "NotFound" && err.message === "open /nope/f: no such file or directory");
  await assert.rejects(mkfile(root, { path: "/d", mode: 0o644, data: "" }),
    (err: unknown) => err instanceof GantryError && err.message === "open /d: is a directory");
});
