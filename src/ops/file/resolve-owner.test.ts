import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isInvalidArgument } from "../../util/errors.js";
import { resolveOwner } from "./resolve-owner.js";
import { tempDir } from "./testing/fs-fixture.js";

function rootWithUsers(): string {
  const root = tempDir();
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n  app:x:1000:1001::/home/app:/bin/sh  \n\nodd:x:abc:7::/:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\napp:x:1001:\ndevs:x:2000:app\n");
  return root;
}

test("no spec keeps the sources' owners", async () => {
  assert.equal(await resolveOwner(undefined, "/nonexistent"), undefined);
});

test("ids, names and mixes resolve like upstream's readUser", async () => {
  const root = rootWithUsers();
  assert.deepEqual(await resolveOwner({ user: { id: 1003 } }, root), { uid: 1003, gid: 1003 });
  assert.deepEqual(await resolveOwner({ user: { id: 1001 }, group: { id: 1002 } }, root), { uid: 1001, gid: 1002 });
  assert.deepEqual(await resolveOwner({ user: { name: "app" } }, root), { uid: 1000, gid: 1001 });
  assert.deepEqual(await resolveOwner({ user: { name: "app" }, group: { name: "devs" } }, root), { uid: 1000, gid: 2000 });
  assert.deepEqual(await resolveOwner({ group: { name: "devs" } }, root), { uid: 0, gid: 2000 });
  assert.deepEqual(await resolveOwner({ user: { name: "app" }, group: { id: 5 } }, root), { uid: 1000, gid: 5 });
  assert.deepEqual(await resolveOwner({ user: { name: "odd" } }, root), { uid: 0, gid: 7 });
});

test("unknown names and missing databases give 0 (v0.11 does not fail)", async () => {
  const root = rootWithUsers();
  assert.deepEqual(await resolveOwner({ user: { name: "nosuchuser" } }, root), { uid: 0, gid: 0 });
  assert.deepEqual(await resolveOwner({ user: { name: "app" }, group: { name: "nosuch" } }, root), { uid: 1000, gid: 1001 });
  const empty = tempDir();
  assert.deepEqual(await resolveOwner({ user: { name: "app" } }, empty), { uid: 0, gid: 0 });
});

test("user and group can come from different roots; databases are read inside the root", async () => {
  const users = rootWithUsers();
  const groups = tempDir();
  mkdirSync(join(groups, "real"));
  writeFileSync(join(groups, "real/group"), "devs:x:3000:\n");
  symlinkSync("/real", join(groups, "etc"));
  assert.deepEqual(await resolveOwner({ user: { name: "app" }, group: { name: "devs" } }, { user: users, group: groups }),
    { uid: 1000, gid: 3000 });
  await assert.rejects(resolveOwner({ group: { name: "devs" } }, { user: users }), (err: unknown) => isInvalidArgument(err));
});
