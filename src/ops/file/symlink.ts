// FileOp `symlink` action (upstream backend.go `symlink`).
import { lchown, lutimes, symlink as makeSymlink } from "node:fs/promises";
import { throwIfAborted } from "../../util/errors.js";
import { fsError } from "./fs-error.js";
import type { Owner } from "./resolve-owner.js";
import { displayPath, resolveInRoot } from "./root-path.js";

/** Options of the symlink action: `newpath` is created inside the root, pointing at `oldpath` verbatim. */
export interface SymlinkOptions {
  oldpath: string;
  newpath: string;
  owner?: Owner;
  timestamp?: Date;
  signal?: AbortSignal;
}

/**
 * Creates a symlink inside `root`. The target text is stored as given (it is resolved later, by whoever
 * follows the link). An existing `newpath` is AlreadyExists (`symlink x /l: file exists`).
 */
export async function symlink(root: string, opts: SymlinkOptions): Promise<void> {
  throwIfAborted(opts.signal);
  const p = await resolveInRoot(root, opts.newpath);
  const shown = displayPath(root, p);
  try {
    await makeSymlink(opts.oldpath, p);
  } catch (err) {
    throw fsError(`symlink ${opts.oldpath}`, shown, err);
  }
  try {
    if (opts.owner !== undefined) await lchown(p, opts.owner.uid, opts.owner.gid);
    if (opts.timestamp !== undefined) await lutimes(p, opts.timestamp, opts.timestamp);
  } catch (err) {
    throw fsError("lchown", shown, err);
  }
}
