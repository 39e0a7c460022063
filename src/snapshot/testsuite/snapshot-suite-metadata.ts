// Suite part: file metadata (modes, owners, mtimes, symlinks, fifos) survives commit, children and merge.
import { execFile } from "node:child_process";
import { chmod, chown, lstat, readlink, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import type { Snapshotter } from "../snapshotter.js";
import { withMounted } from "./snapshot-access.js";

const run = promisify(execFile);

/** Asserts the metadata written by `writeMetadataFixture` in the view of `name`. */
export async function assertMetadata(sn: Snapshotter, name: string, expectMode: number): Promise<void> {
  const key = `meta-view-${name}`;
  try {
    await withMounted(await sn.view(key, name), async (dir) => {
      const f = await lstat(join(dir, "suid"));
      assert.deepEqual([f.mode & 0o7777, f.uid, f.gid, f.mtimeMs], [expectMode, 7, 8, 1_500_000_000_000]);
      assert.equal(await readlink(join(dir, "link")), "suid");
      assert.ok((await lstat(join(dir, "pipe"))).isFIFO());
    });
  } finally {
    await sn.remove(key);
  }
}

/** Creates a setuid file owned 7:8 with a fixed mtime, a symlink and a fifo in the mounted `dir`. */
export async function writeMetadataFixture(dir: string): Promise<void> {
  await writeFile(join(dir, "suid"), "s");
  await chown(join(dir, "suid"), 7, 8);
  await chmod(join(dir, "suid"), 0o4755);
  await utimes(join(dir, "suid"), 1_500_000_000, 1_500_000_000);
  await symlink("suid", join(dir, "link"));
  await run("mkfifo", [join(dir, "pipe")]);
}
