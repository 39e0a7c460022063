import { test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { GantryError } from "../../util/errors.js";
import { symlink } from "./symlink.js";
import { listTree, tempDir } from "./testing/fs-fixture.js";

test("symlink stores the target verbatim with owner and timestamp on the link", async () => {
  const root = tempDir();
  const t = new Date("2019-09-09T09:09:09Z");
  await symlink(root, { oldpath: "../../outside/target", newpath: "/l", owner: { uid: 3, gid: 4 }, timestamp: t });
  const st = lstatSync(join(root, "l"));
  assert.deepEqual(listTree(root), ["/l symlink 0777 3:4 ../../outside/target"]);
  assert.equal(st.mtimeMs, t.getTime());
});

test("newpath parents resolve inside the root; an existing newpath is AlreadyExists", async () => {
  const root = tempDir();
  mkdirSync(join(root, "real"));
  symlinkSync("/real", join(root, "dir"));
  await symlink(root, { oldpath: "x", newpath: "/dir/l" });
  assert.equal(lstatSync(join(root, "real/l")).isSymbolicLink(), true);
  mkdirSync(join(root, "real/existing"));
  await assert.rejects(symlink(root, { oldpath: "y", newpath: "/dir/existing" }),
    (err: unknown) => err instanceof GantryError && err.code === "AlreadyExists" && err.message === "symlink y /real/existing: file exists");
  // Like upstream, an existing link as newpath is followed: a dangling one gets created at its target.
  await symlink(root, { oldpath: "z", newpath: "/real/l" });
  assert.equal(lstatSync(join(root, "real/x")).isSymbolicLink(), true);
});
