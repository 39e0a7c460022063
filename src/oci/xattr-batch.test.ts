import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readXattrsOfDirs } from "./xattr-batch.js";
import { readXattrs } from "./xattr-reader.js";

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "xattr-batch-"));
  for (const l of ["l1", "l10", "l2"]) {
    await mkdir(join(root, l, "sub"), { recursive: true });
    await writeFile(join(root, l, "sub/f"), l);
  }
  execFileSync("setfattr", ["-n", "user.a", "-v", "one", join(root, "l1/sub/f")]);
  execFileSync("setfattr", ["-n", "user.b", "-v", "0x00ff", join(root, "l10")]);
  execFileSync("setfattr", ["-n", "user.c", "-v", "two", join(root, "l2/sub")]);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("one run reads each directory's xattrs as readXattrs would, keyed per directory", async () => {
  const dirs = ["l1", "l10", "l2"].map((l) => join(root, l));
  const got = await readXattrsOfDirs(dirs);
  assert.deepEqual([...got.keys()], dirs);
  for (const d of dirs) assert.deepEqual(got.get(d), await readXattrs(d), d);
  assert.equal(got.get(dirs[0])?.get("sub/f")?.get("user.a")?.toString(), "one");
  assert.deepEqual(got.get(dirs[1])?.get("")?.get("user.b"), Buffer.from([0, 0xff]));
  assert.equal(got.get(dirs[1])?.has("sub/f"), false, "l1's entries do not leak into l10 (shared prefix)");
});

test("a missing directory fails the batch", async () => {
  await assert.rejects(readXattrsOfDirs([join(root, "l1"), join(root, "nope")]), /nope/);
});
