import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdirInRoot } from "./mkdir-in-root.js";

describe("mkdirInRoot", () => {
  it("creates missing parents and the leaf, reporting container paths parents first", async () => {
    const root = await mkdtemp(join(tmpdir(), "gantry-mkdir-"));
    try {
      await mkdir(join(root, "var"));
      await symlink("/run", join(root, "var/run"));
      assert.deepEqual(await mkdirInRoot(root, "/var/run/secrets/token", { leaf: "file" }),
        ["/run", "/run/secrets", "/run/secrets/token"]);
      assert.ok((await stat(join(root, "run/secrets/token"))).isFile());
      assert.deepEqual(await mkdirInRoot(root, "/run/secrets/token", { leaf: "file" }), []);
      assert.deepEqual(await mkdirInRoot(root, "/a/b"), ["/a", "/a/b"]);
      assert.ok((await stat(join(root, "a/b"))).isDirectory());
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("fails beneath a file", async () => {
    const root = await mkdtemp(join(tmpdir(), "gantry-mkdir-"));
    try {
      await mkdirInRoot(root, "/f", { leaf: "file" });
      await assert.rejects(mkdirInRoot(root, "/f/sub"), /ENOTDIR/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
