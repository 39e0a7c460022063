// Resolving a container path to a host path the way runc does: symlinks are followed, but an absolute link
// or a `..` restarts from (or stops at) the container's root, so a hostile image cannot point us outside it.
import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { GantryError, errnoOf } from "../util/errors.js";

/** Linux's own limit on links followed during one lookup. */
const MAX_LINKS = 40;

export interface RootPath {
  /** The resolved location on the host (inside the root); its last `missing` components do not exist. */
  hostPath: string;
  /** The same location as the container sees it: absolute, symlinks resolved. */
  containerPath: string;
  /** How many trailing components do not exist yet; 0 when the path exists. */
  missing: number;
}

function components(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}

/**
 * Resolves `p` (a container path) inside `root` (a host directory), following symlinks without escaping.
 * Missing components are kept literally and counted in `missing`. Too many links is InvalidArgument.
 */
export async function resolveInRoot(root: string, p: string): Promise<RootPath> {
  let resolved: string[] = [];
  let pending = components(p);
  let links = 0;
  let firstMissing = -1;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === "..") {
      resolved.pop();
      if (firstMissing >= resolved.length) firstMissing = -1;
      continue;
    }
    if (firstMissing >= 0) {
      resolved.push(c);
      continue;
    }
    const host = join(root, ...resolved, c);
    let isLink: boolean;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (err) {
      // Missing (or beneath a file): the rest of the path is taken literally; creating it reports any ENOTDIR.
      if (errnoOf(err) !== "ENOENT" && errnoOf(err) !== "ENOTDIR") throw err;
      firstMissing = resolved.length;
      resolved.push(c);
      continue;
    }
    if (!isLink) {
      resolved.push(c);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw new GantryError("InvalidArgument", `Cannot resolve ${p} inside ${root}: too many levels of symbolic links.`);
    }
    const target = await readlink(host);
    if (target.startsWith("/")) resolved = [];
    pending = [...components(target), ...pending];
  }
  return {
    hostPath: join(root, ...resolved),
    containerPath: "/" + resolved.join("/"),
    missing: firstMissing < 0 ? 0 : resolved.length - firstMissing,
  };
}
