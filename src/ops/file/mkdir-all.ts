// `mkdir -p` for host paths already resolved inside a root (fsutil's MkdirAll): every directory it
// creates gets exactly `mode` (whatever the process umask), the owner when one is given, and the
// timestamp when one is given. Existing directories are left alone.
import { chmod, lchown, lstat, mkdir, stat, utimes } from "node:fs/promises";
import { dirname } from "node:path";
import { GantryError } from "../../util/errors.js";
import { fsError, isErrno } from "./fs-error.js";
import type { Owner } from "./resolve-owner.js";
import { displayPath } from "./root-path.js";

/** What `mkdirAll` applies to the directories it creates. */
export interface CreateDirOptions {
  /** Permission bits (0o777 part used; a setgid bit inherited from the parent is kept). */
  mode: number;
  owner?: Owner;
  timestamp?: Date;
  /** The root the path lies in, so errors show `/a/b` rather than the host path. */
  root: string;
}

/**
 * Creates `hostPath` and its missing parents; returns the directories it created, outermost first.
 * A non-directory in the way is FailedPrecondition (`mkdir /a: not a directory`).
 */
export async function mkdirAll(hostPath: string, opts: CreateDirOptions): Promise<string[]> {
  const missing: string[] = [];
  for (let p = hostPath; ; p = dirname(p)) {
    const st = await statOrUndefined(p, opts.root);
    if (st?.isDirectory()) break;
    if (st !== undefined) {
      throw new GantryError("FailedPrecondition", `mkdir ${displayPath(opts.root, p)}: not a directory`);
    }
    missing.push(p);
    if (p === dirname(p)) break;
  }
  const created: string[] = [];
  for (const p of missing.reverse()) {
    if (await makeDir(p, opts.mode & 0o777, opts.root)) {
      await applyCreatedDirMeta(p, opts);
      created.push(p);
    }
  }
  return created;
}

/**
 * Creates one directory with exact permissions; false when it was already there (a directory, or with
 * `existingIsOk` anything at all, as upstream's non-recursive mkdir accepts).
 */
export async function makeDir(hostPath: string, perm: number, root: string,
  opts: { existingIsOk?: boolean } = {}): Promise<boolean> {
  try {
    await mkdir(hostPath, perm);
  } catch (err) {
    // Someone may have made it first (a parallel step); an existing directory is what we wanted.
    if (isErrno(err, "EEXIST") && (opts.existingIsOk || (await lstat(hostPath)).isDirectory())) return false;
    throw fsError("mkdir", displayPath(root, hostPath), err);
  }
  // mkdir applies the umask; fix the bits but keep a setgid bit inherited from the parent.
  const st = await stat(hostPath);
  if ((st.mode & 0o777) !== perm) await chmod(hostPath, (st.mode & 0o7000) | perm);
  return true;
}

/** Owner and timestamp for a directory this layer created. */
export async function applyCreatedDirMeta(hostPath: string, opts: { owner?: Owner; timestamp?: Date; root: string }): Promise<void> {
  const shown = displayPath(opts.root, hostPath);
  if (opts.owner !== undefined) {
    await lchown(hostPath, opts.owner.uid, opts.owner.gid).catch((err: unknown) => { throw fsError("lchown", shown, err); });
  }
  if (opts.timestamp !== undefined) {
    await utimes(hostPath, opts.timestamp, opts.timestamp).catch((err: unknown) => { throw fsError("utimes", shown, err); });
  }
}

async function statOrUndefined(p: string, root: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(p);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    throw fsError("stat", displayPath(root, p), err);
  }
}
