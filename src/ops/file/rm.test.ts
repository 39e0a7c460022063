import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GantryError } from "../../util/errors.js";
import { rm } from "./rm.js";
import { listTree, tempDir } from "./testing/fs-fixture.js";

function populate(root: string): void {
  mkdirSync(join(root, "d/sub"), { recursive: true });
  writeFileSync(join(root, "d/sub/f"), "x");
  writeFileSync(join(root, "a.txt"), "a");
  writeFileSync(join(root, "b.txt"), "b");
  writeFileSync(join(root, "c.md"), "c");
}

test("rm removes files and whole trees", async () => {
  const root = tempDir();
  populate(root);
  await rm(root, { path: "/d" });
  await rm(root, { path: "a.txt" });
  assert.deepEqual(listTree(root).map((l) => l.split(" ")[0]), ["/b.txt", "/c.md"]);
});

test("a missing path is NotFound unless allowNotFound", async () => {
  const root = tempDir();
  await assert.rejects(rm(root, { path: "/nope" }), (err: unknown) =>
    err instanceof GantryError && err.code === "NotFound" && err.message === "stat /nope: no such file or directory");
  await rm(root, { path: "/nope", allowNotFound: true });
  await rm(root, { path: "/nope/deeper", allowNotFound: true });
});

test("wildcards remove every match; no match is fine", async () => {
  const root = tempDir();
  populate(root);
  await rm(root, { path: "/*.txt", allowWildcard: true });
  await rm(root, { path: "/*.none", allowWildcard: true });
  await rm(root, { path: "/d/*/f", allowWildcard: true });
  assert.deepEqual(listTree(root).map((l) => l.split(" ")[0]), ["/c.md", "/d", "/d/sub"]);
});

test("a symlink is removed, not its target", async () => {
  const root = tempDir();
  populate(root);
  symlinkSync("/d", join(root, "link"));
  await rm(root, { path: "/link" });
  assert.equal(existsSync(join(root, "d/sub/f")), true);
  assert.equal(existsSync(join(root, "link")), false);
});

test("rm cannot escape the root or remove it", async () => {
  for (const p of ["..", "../..", "a/../..", "/", "../victim", "/up/victim", "/abs/victim"]) {
    const parent = tempDir();
    const root = join(parent, "root");
    mkdirSync(root);
    mkdirSync(join(parent, "victim"));
    writeFileSync(join(parent, "victim/data"), "data");
    symlinkSync("../..", join(root, "up"));
    symlinkSync("/", join(root, "abs"));
    await rm(root, { path: p }).catch(() => undefined);
    assert.equal(existsSync(join(parent, "victim/data")), true, p);
    assert.equal(existsSync(root), true, p);
  }
  const root = tempDir();
  await assert.rejects(rm(root, { path: "/" }), (err: unknown) => err instanceof GantryError && err.code === "InvalidArgument");
});
