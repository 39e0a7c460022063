import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveInRoot } from "./resolve-in-root.js";
import { codeOf } from "../util/errors.js";

describe("resolveInRoot", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "gantry-rir-"));
    await mkdir(join(root, "usr/lib"), { recursive: true });
    await writeFile(join(root, "usr/lib/file"), "x");
    await symlink("/usr/lib", join(root, "lib"));
    await symlink("../../../../..", join(root, "usr/up"));
    await symlink("/etc/passwd", join(root, "hostile"));
    await symlink("loop2", join(root, "loop1"));
    await symlink("loop1", join(root, "loop2"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("returns existing paths as they are", async () => {
    assert.deepEqual(await resolveInRoot(root, "/usr/lib/file"),
      { hostPath: join(root, "usr/lib/file"), containerPath: "/usr/lib/file", missing: 0 });
    assert.deepEqual(await resolveInRoot(root, "/"), { hostPath: root, containerPath: "/", missing: 0 });
  });

  it("follows absolute symlinks relative to the root", async () => {
    const r = await resolveInRoot(root, "/lib/file");
    assert.equal(r.containerPath, "/usr/lib/file");
    assert.equal(r.hostPath, join(root, "usr/lib/file"));
  });

  it("never climbs above the root", async () => {
    assert.equal((await resolveInRoot(root, "/usr/up/usr/lib")).containerPath, "/usr/lib");
    assert.equal((await resolveInRoot(root, "/../../usr")).containerPath, "/usr");
    const r = await resolveInRoot(root, "/hostile");
    assert.equal(r.hostPath, join(root, "etc/passwd"));
    assert.equal(r.missing, 2);
  });

  it("counts missing trailing components", async () => {
    const r = await resolveInRoot(root, "/lib/new/dir");
    assert.deepEqual(r, { hostPath: join(root, "usr/lib/new/dir"), containerPath: "/usr/lib/new/dir", missing: 2 });
    assert.equal((await resolveInRoot(root, "/missing/../usr/lib")).missing, 0);
  });

  it("stops on symlink loops with InvalidArgument", async () => {
    await assert.rejects(resolveInRoot(root, "/loop1/x"), (err: unknown) => codeOf(err) === "InvalidArgument");
  });
});
