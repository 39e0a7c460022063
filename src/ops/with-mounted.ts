// Runs a function with a writable snapshot mounted on a temporary directory, unmounting whatever happens.
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import type { ImmutableRef, MutableRef, RefManager, RefOptions } from "../cache/ref-manager.js";
import { mountAll, unmountAll } from "../snapshot/mount.js";
import { removeDir } from "../snapshot/remove-dir.js";

export async function withMounted<T>(mutable: MutableRef, tmpDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpDir, "mnt-"));
  try {
    await mountAll(await mutable.mounts(), dir);
    try {
      return await fn(dir);
    } finally {
      await unmountAll(dir);
    }
  } finally {
    await removeDir(dir);
  }
}

/**
 * Makes a new snapshot on `parent`, lets `fill` write into it while mounted, and commits it; on failure the
 * snapshot is discarded. Returns what `fill` returned along with the committed ref (owned by the caller).
 */
export async function fillSnapshot<T>(refs: RefManager, tmpDir: string, opts: {
  parent: ImmutableRef | null;
  fill: (dir: string) => Promise<T>;
  commit?: RefOptions;
  signal?: AbortSignal;
}): Promise<{ ref: ImmutableRef; value: T }> {
  const mutable = await refs.newMutable(opts.parent, { signal: opts.signal });
  let value: T;
  try {
    value = await withMounted(mutable, tmpDir, opts.fill);
  } catch (err) {
    await mutable.release();
    throw err;
  }
  return { ref: await mutable.commit(opts.commit), value };
}
