// FileOp `mkdir` action (upstream backend.go `mkdir`).
import { throwIfAborted } from "../../util/errors.js";
import { applyCreatedDirMeta, makeDir, mkdirAll } from "./mkdir-all.js";
import type { Owner } from "./resolve-owner.js";
import { resolveInRoot } from "./root-path.js";

/** Options of the mkdir action; `path` is inside the root (absolute, or relative to `/`). */
export interface MkdirOptions {
  path: string;
  /** Permission bits (only 0o777 is used). */
  mode: number;
  makeParents?: boolean;
  /** Owner of the directories created; undefined leaves them root-owned. */
  owner?: Owner;
  /** atime/mtime of the directories created. */
  timestamp?: Date;
  signal?: AbortSignal;
}

/**
 * Creates a directory inside `root` (symlinks on the way followed within the root). Like upstream, an
 * existing path is success and is left untouched, with or without `makeParents`. Errors: NotFound for a
 * missing parent without `makeParents` (`mkdir /a/b: no such file or directory`), FailedPrecondition for a
 * file in the way (`mkdir /a: not a directory`).
 */
export async function mkdir(root: string, opts: MkdirOptions): Promise<void> {
  throwIfAborted(opts.signal);
  const p = await resolveInRoot(root, opts.path);
  const meta = { mode: opts.mode & 0o777, owner: opts.owner, timestamp: opts.timestamp, root };
  if (opts.makeParents) {
    await mkdirAll(p, meta);
    return;
  }
  if (await makeDir(p, meta.mode, root, { existingIsOk: true })) await applyCreatedDirMeta(p, meta);
}
