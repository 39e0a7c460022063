import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeEmptyStubs } from "./remove-stubs.js";

test("removes empty stubs children first and keeps the ones with content", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-stubs-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, "run/secrets"), { recursive: true });
  await writeFile(join(root, "run/secrets/token"), "");
  await mkdir(join(root, "data"));
  await writeFile(join(root, "data/kept.txt"), "written by the process\n");
  await mkdir(join(root, "etc"));
  await writeFile(join(root, "etc/hosts"), "");
  const r = await removeEmptyStubs(root, ["/run", "/run/secrets", "/run/secrets/token", "/data", "/etc/hosts", "/gone"]);
  assert.deepEqual(r.removed, ["/gone", "/etc/hosts", "/run/secrets/token", "/run/secrets", "/run"]);
  assert.deepEqual(r.kept, ["/data"]);
  assert.deepEqual((await readdir(root)).sort(), ["data", "etc"]);
});

test("does not follow a symlink the process put in a stub's path", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-stubs-"));
  const outside = await mkdtemp(join(tmpdir(), "gantry-outside-"));
  t.after(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });
  await writeFile(join(outside, "token"), "");
  // The stub dir /run was replaced by a link to a host dir, and /etc by a relative link within the root.
  await symlink(outside, join(root, "run"));
  await mkdir(join(root, "real-etc"));
  await writeFile(join(root, "real-etc/hosts"), "");
  await symlink("real-etc", join(root, "etc"));
  const r = await removeEmptyStubs(root, ["/run", "/run/token", "/etc", "/etc/hosts"]);
  assert.deepEqual(r.kept, ["/etc/hosts", "/etc", "/run"]);
  assert.deepEqual(r.removed, ["/run/token"], "a stub whose parent is missing inside the root counts as gone");
  assert.ok((await stat(join(outside, "token"))).isFile(), "the host file outside the root survives");
  assert.ok((await stat(join(root, "real-etc/hosts"))).isFile(), "a file reached through a link survives");
});
