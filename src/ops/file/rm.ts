// FileOp `rm` action (upstream backend.go `rm`/`rmPath`).
import { lstat, rm as remove } from "node:fs/promises";
import { join } from "node:path";
import { GantryError, throwIfAborted } from "../../util/errors.js";
import { fsError, isErrno } from "./fs-error.js";
import { cleanActionPath, goClean, goSplit } from "./go-path.js";
import { displayPath, resolveInRoot } from "./root-path.js";
import { resolveWildcards } from "./wildcards.js";

/** Options of the rm action; `path` is inside the root. */
export interface RmOptions {
  path: string;
  /** A missing path is success instead of NotFound. */
  allowNotFound?: boolean;
  /** `path` may hold `*`, `?`, `[...]`; every match is removed (none is success). */
  allowWildcard?: boolean;
  signal?: AbortSignal;
}

/**
 * Removes a path (recursively) inside `root`. The last component is not followed: a symlink is removed,
 * not its target. Removing `/` is InvalidArgument; a missing path is NotFound
 * (`stat /x: no such file or directory`) unless `allowNotFound`.
 */
export async function rm(root: string, opts: RmOptions): Promise<void> {
  throwIfAborted(opts.signal);
  if (!opts.allowWildcard) {
    await rmPath(root, opts.path, opts.allowNotFound ?? false);
    return;
  }
  for (const match of await resolveWildcards(root, cleanActionPath(opts.path), false)) {
    throwIfAborted(opts.signal);
    await rmPath(root, match, opts.allowNotFound ?? false);
  }
}

async function rmPath(root: string, path: string, allowNotFound: boolean): Promise<void> {
  const { dir, file } = goSplit(goClean("/" + path));
  if (file === "") throw new GantryError("InvalidArgument", `Cannot remove ${JSON.stringify(path)}: it names the root directory.`);
  const p = join(await resolveInRoot(root, dir), file);
  const shown = displayPath(root, p);
  if (!allowNotFound) {
    try {
      // Upstream uses a following stat, which on the host would chase absolute links out of the root;
      // the entry itself existing (a dangling link too) is what matters for removing it.
      await lstat(p);
    } catch (err) {
      if (isErrno(err, "ENOENT", "ENOTDIR")) throw fsError("stat", shown, err);
    }
  }
  try {
    await remove(p, { recursive: true, force: true });
  } catch (err) {
    throw fsError("remove", shown, err);
  }
}
