// FileOp `mkfile` action (upstream backend.go `mkfile`).
import { constants } from "node:fs";
import { chmod, lchown, open, utimes, type FileHandle } from "node:fs/promises";
import { throwIfAborted } from "../../util/errors.js";
import { fsError, isErrno } from "./fs-error.js";
import type { Owner } from "./resolve-owner.js";
import { displayPath, resolveInRoot } from "./root-path.js";

/** Options of the mkfile action; `path` is inside the root. */
export interface MkfileOptions {
  path: string;
  /** Permission bits for a new file (only 0o777 is used); an existing file keeps its mode. */
  mode: number;
  data: Uint8Array | string;
  owner?: Owner;
  timestamp?: Date;
  signal?: AbortSignal;
}

/**
 * Writes a file inside `root`, replacing the content of an existing one (through a symlink, as upstream's
 * os.WriteFile does). The parent must exist: NotFound (`open /a/f: no such file or directory`) otherwise;
 * a directory in the way is FailedPrecondition (`open /d: is a directory`).
 */
export async function mkfile(root: string, opts: MkfileOptions): Promise<void> {
  throwIfAborted(opts.signal);
  const p = await resolveInRoot(root, opts.path);
  const shown = displayPath(root, p);
  const perm = opts.mode & 0o777;
  let fh: FileHandle;
  let created = true;
  try {
    try {
      fh = await open(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, perm);
    } catch (err) {
      if (!isErrno(err, "EEXIST")) throw err;
      created = false;
      fh = await open(p, constants.O_WRONLY | constants.O_TRUNC);
    }
  } catch (err) {
    throw fsError("open", shown, err);
  }
  try {
    await fh.writeFile(opts.data);
  } catch (err) {
    throw fsError("write", shown, err);
  } finally {
    await fh.close();
  }
  try {
    // The umask may have cut the requested bits of a new file; upstream runs with umask 0.
    if (created) await chmod(p, perm);
    if (opts.owner !== undefined) await lchown(p, opts.owner.uid, opts.owner.gid);
    if (opts.timestamp !== undefined) await utimes(p, opts.timestamp, opts.timestamp);
  } catch (err) {
    throw fsError("chown", shown, err);
  }
}
