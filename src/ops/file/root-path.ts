// Resolves a path inside a root directory the way a chroot would (continuity's `fs.RootPath`): every
// symlink met on the way is followed, absolute targets restart at the root and `..` never climbs above
// it, so the result always stays inside the root. Components that do not exist are kept literally.
import { lstat, readlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { GantryError } from "../../util/errors.js";
import { isErrno } from "./fs-error.js";
import { goClean } from "./go-path.js";

const MAX_LINKS = 255;

/** Options for `resolveInRoot`. */
export interface ResolveOptions {
  /** Follow a symlink in the last component too (default true); false resolves only the parents. */
  followFinal?: boolean;
}

/**
 * The host path of `p` (absolute or relative to `/` of the root). Throws FailedPrecondition when more
 * than 255 symlinks are followed, and the fs error when a component cannot be inspected.
 */
export async function resolveInRoot(root: string, p: string, opts: ResolveOptions = {}): Promise<string> {
  const followFinal = opts.followFinal ?? true;
  // Like upstream, `..` in the given path is resolved lexically first; only link targets walk the disk.
  const pending = splitPath(goClean("/" + p));
  const resolved: string[] = [];
  let links = 0;
  let missing = false;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === "..") {
      resolved.pop();
      continue;
    }
    // Past a missing component nothing can be a symlink; the rest is taken literally.
    if (missing || (pending.length === 0 && !followFinal)) {
      resolved.push(name);
      continue;
    }
    const host = join(resolve(root), ...resolved, name);
    let isLink: boolean;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (err) {
      if (!isErrno(err, "ENOENT", "ENOTDIR")) throw err;
      missing = true;
      resolved.push(name);
      continue;
    }
    if (!isLink) {
      resolved.push(name);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw new GantryError("FailedPrecondition", `Cannot resolve ${JSON.stringify(p)}: too many levels of symbolic links.`);
    }
    const target = await readlink(host);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...splitPath(target));
  }
  return join(resolve(root), ...resolved);
}

/** A host path shown relative to its root (`/a/b`), for messages. */
export function displayPath(root: string, hostPath: string): string {
  const r = resolve(root);
  if (hostPath === r) return "/";
  return hostPath.startsWith(r + "/") ? hostPath.slice(r.length) : hostPath;
}

function splitPath(p: string): string[] {
  return p.split("/").filter((s) => s !== "" && s !== ".");
}
