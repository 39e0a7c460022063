// Removing the mount stubs a run created in the root filesystem, once the container has exited and while
// the root is still mounted (upstream's stub cleaner does the same): a stub that stayed an empty directory
// or an empty file goes, so mount targets do not leak into the committed layer.
import { lstat, readdir, rm, rmdir } from "node:fs/promises";
import { join, posix } from "node:path";
import { resolveInRoot } from "./resolve-in-root.js";
import { errnoOf } from "../util/errors.js";

export interface StubRemoval {
  /** Stubs removed (or already gone), deepest first. */
  removed: string[];
  /** Stubs left in place: not empty any more, or reached through a symlink the process made. */
  kept: string[];
}

/**
 * Removes the still-empty stubs among `stubs` (container paths, parents before children) from `rootfs`,
 * children first. Paths are resolved inside the root, and one that now leads through a symlink is kept:
 * the process may have replaced a parent with a link pointing anywhere on the host.
 */
export async function removeEmptyStubs(rootfs: string, stubs: readonly string[]): Promise<StubRemoval> {
  const out: StubRemoval = { removed: [], kept: [] };
  for (const stub of [...stubs].reverse()) {
    const parent = posix.dirname(stub);
    const r = await resolveInRoot(rootfs, parent);
    if (r.missing > 0) out.removed.push(stub);
    else if (r.containerPath !== parent) out.kept.push(stub);
    else (await removeIfEmpty(join(r.hostPath, posix.basename(stub))) ? out.removed : out.kept).push(stub);
  }
  return out;
}

async function removeIfEmpty(p: string): Promise<boolean> {
  try {
    const st = await lstat(p);
    if (st.isDirectory()) {
      if ((await readdir(p)).length > 0) return false;
      await rmdir(p);
      return true;
    }
    // A symlink or anything else the process put there is not ours to remove.
    if (!st.isFile() || st.size > 0) return false;
    await rm(p);
    return true;
  } catch (err) {
    // Gone already is what we wanted; a directory filled meanwhile stays.
    if (errnoOf(err) === "ENOENT") return true;
    if (errnoOf(err) === "ENOTEMPTY" || errnoOf(err) === "EEXIST") return false;
    throw err;
  }
}
