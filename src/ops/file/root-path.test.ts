import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isFailedPrecondition } from "../../util/errors.js";
import { displayPath, resolveInRoot } from "./root-path.js";
import { tempDir } from "./testing/fs-fixture.js";

test("plain paths, `..` and missing components stay inside the root", async () => {
  const root = tempDir();
  mkdirSync(join(root, "a/b"), { recursive: true });
  assert.equal(await resolveInRoot(root, "/a/b"), join(root, "a/b"));
  assert.equal(await resolveInRoot(root, "a/b/"), join(root, "a/b"));
  assert.equal(await resolveInRoot(root, "/"), root);
  assert.equal(await resolveInRoot(root, ""), root);
  assert.equal(await resolveInRoot(root, "../../etc/passwd"), join(root, "etc/passwd"));
  assert.equal(await resolveInRoot(root, "/a/../../../x"), join(root, "x"));
  assert.equal(await resolveInRoot(root, "/missing/../../a/x/y"), join(root, "a/x/y"));
});

test("symlinks are followed inside the root, absolute ones from the root", async () => {
  const root = tempDir();
  mkdirSync(join(root, "real/sub"), { recursive: true });
  symlinkSync("/real", join(root, "abs"));
  symlinkSync("real/sub", join(root, "rel"));
  symlinkSync("../../../../../../etc", join(root, "real/escape"));
  symlinkSync("/../../..", join(root, "up"));
  symlinkSync("../../real", join(root, "real/sub/back"));
  assert.equal(await resolveInRoot(root, "/abs/sub/f"), join(root, "real/sub/f"));
  assert.equal(await resolveInRoot(root, "/rel/x"), join(root, "real/sub/x"));
  assert.equal(await resolveInRoot(root, "/real/escape/passwd"), join(root, "etc/passwd"));
  assert.equal(await resolveInRoot(root, "/up"), root);
  assert.equal(await resolveInRoot(root, "/real/sub/back/sub"), join(root, "real/sub"));
  // Like upstream, `..` in the given path is lexical (the link is never looked at)...
  assert.equal(await resolveInRoot(root, "/rel/.."), root);
  // ...while `..` inside a link target applies where the link led.
  symlinkSync("sub/..", join(root, "real/self"));
  assert.equal(await resolveInRoot(root, "/real/self/sub"), join(root, "real/sub"));
});

test("the last component is followed unless followFinal is false", async () => {
  const root = tempDir();
  writeFileSync(join(root, "target"), "x");
  symlinkSync("/target", join(root, "link"));
  symlinkSync("/nowhere/deeper", join(root, "dangling"));
  assert.equal(await resolveInRoot(root, "/link"), join(root, "target"));
  assert.equal(await resolveInRoot(root, "/link", { followFinal: false }), join(root, "link"));
  assert.equal(await resolveInRoot(root, "/dangling"), join(root, "nowhere/deeper"));
});

test("symlink loops fail instead of spinning", async () => {
  const root = tempDir();
  symlinkSync("b", join(root, "a"));
  symlinkSync("a", join(root, "b"));
  await assert.rejects(resolveInRoot(root, "/a/x"), (err: unknown) => isFailedPrecondition(err));
});

test("displayPath shows root-relative paths", () => {
  assert.equal(displayPath("/r/", "/r"), "/");
  assert.equal(displayPath("/r", "/r/a/b"), "/a/b");
  assert.equal(displayPath("/r", "/rx/a"), "/rx/a");
});
