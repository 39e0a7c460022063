// Runs a function with a writable snapshot mounted on a temporary directory, unmounting whatever happens.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import type { ImmutableRef, MutableRef, RefManager, RefOptions } from "../cache/ref-manager.js";
import { mountAll, unmountAll } from "../snapshot/mount.js";
import { removeDir } from "../snapshot/remove-dir.js";
import { GantryError } from "../util/errors.js";

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
  const { ref, value } = await fillSnapshotOnDemand(refs, tmpDir, {
    ...opts,
    fill: async (dir, open) => {
      await open();
      return opts.fill(dir);
    },
  });
  // Opened before the fill ran, so a snapshot was always made.
  if (ref === null) throw new GantryError("Internal", "A filled snapshot was never made.");
  return { ref, value };
}

/**
 * The lazy form of `fillSnapshot`, for a fill that may write nothing: `fill` gets the path the snapshot
 * will be mounted on (nothing is there yet) and `open`, which it must await before its first read or
 * write of that path.
 * The snapshot is made and mounted on the first `open` only; a fill that never opens costs no snapshot,
 * mount or directory, and the result's `ref` is then null.
 */
export async function fillSnapshotOnDemand<T>(refs: RefManager, tmpDir: string, opts: {
  parent: ImmutableRef | null;
  fill: (dir: string, open: () => Promise<void>) => Promise<T>;
  commit?: RefOptions;
  signal?: AbortSignal;
}): Promise<{ ref: ImmutableRef | null; value: T }> {
  const dir = join(tmpDir, `mnt-${randomBytes(8).toString("hex")}`);
  let mutable: MutableRef | undefined;
  let mounted = false;
  let opening: Promise<void> | undefined;
  const open = (): Promise<void> => (opening ??= (async () => {
    await mkdir(dir);
    mutable = await refs.newMutable(opts.parent, { signal: opts.signal });
    await mountAll(await mutable.mounts(), dir);
    mounted = true;
  })());
  let value: T;
  try {
    try {
      value = await opts.fill(dir, open);
      // A fill that failed to await its own open must not leave it running past the unmount.
      await opening;
    } finally {
      if (opening) await settleThenUnmount(opening, dir, () => mounted);
    }
  } catch (err) {
    await mutable?.release();
    throw err;
  }
  return { ref: mutable ? await mutable.commit(opts.commit) : null, value };
}

/** Waits for an open to settle, then undoes whatever part of it happened (mount, directory). */
async function settleThenUnmount(opening: Promise<void>, dir: string, mounted: () => boolean): Promise<void> {
  await opening.catch(() => undefined);
  try {
    if (mounted()) await unmountAll(dir);
  } finally {
    await removeDir(dir);
  }
}
