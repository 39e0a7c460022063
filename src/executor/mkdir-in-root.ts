// Creating a path inside a container's root filesystem before the container starts: working directories
// and mount stubs. Reports what it created so the caller can remove empty stubs afterwards.
import { chown, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { resolveInRoot } from "./resolve-in-root.js";
import { errnoOf } from "../util/errors.js";

export interface MkdirInRootOptions {
  /** What the last component becomes: a directory (default) or an empty file (a stub for a file bind). */
  leaf?: "dir" | "file";
  /** Owner for everything created (default: root). */
  uid?: number;
  gid?: number;
}

/**
 * Creates `p` and its missing parents inside `root` (symlinks resolved inside the root). Returns the
 * container paths it created, parents first; empty when `p` already existed.
 */
export async function mkdirInRoot(root: string, p: string, opts: MkdirInRootOptions = {}): Promise<string[]> {
  const r = await resolveInRoot(root, p);
  if (r.missing === 0) return [];
  const parts = r.containerPath.split("/").filter(Boolean);
  const created: string[] = [];
  for (let i = parts.length - r.missing; i < parts.length; i++) {
    const rel = parts.slice(0, i + 1);
    const host = join(root, ...rel);
    const isLeafFile = i === parts.length - 1 && opts.leaf === "file";
    try {
      if (isLeafFile) await (await open(host, "wx", 0o644)).close();
      else await mkdir(host, { mode: 0o755 });
    } catch (err) {
      // Another mount in the same run may have created it already; that is fine.
      if (errnoOf(err) === "EEXIST") continue;
      throw err;
    }
    if (opts.uid !== undefined || opts.gid !== undefined) await chown(host, opts.uid ?? 0, opts.gid ?? 0);
    created.push("/" + rel.join("/"));
  }
  return created;
}
