// Removing directories whose content is known to be small, in as few system calls as possible. Node's
// recursive `rm` stats, tries, lists and stats again (about eight calls for a directory holding one empty
// directory); on the per-step paths (a mount point after its unmount, overlay's work dir after a commit)
// that is most of what the step does to the disk.
import { rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { errnoOf } from "../util/errors.js";

/**
 * Removes directory `dir` and, first, the subdirectories `inner` (names, deepest last) when they are
 * there; anything else inside (or any surprise) falls back to a recursive remove. A missing `dir` is fine.
 */
export async function removeDir(dir: string, inner: readonly string[] = []): Promise<void> {
  try {
    for (const name of [...inner].reverse()) await rmdirIfThere(join(dir, name));
    await rmdirIfThere(dir);
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rmdirIfThere(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (err) {
    if (errnoOf(err) !== "ENOENT") throw err;
  }
}
