// Computing a layer diff by walking two full trees (the copy snapshotter's commit, and the ref manager's
// diff of unrelated snapshots). The result is a directory in overlay form: changed or added entries
// copied, deleted ones as 0/0 character devices.
//
// An entry counts as changed when its type, mode, owner, size, device number or nanosecond mtime differ.
// Not compared: xattrs of otherwise unchanged entries, and content rewritten with the same size and an mtime
// forced back to the old value. A changed file that is hardlinked to an unchanged one loses that link.
import type { BigIntStats } from "node:fs";
import { lstat, readdir, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import { createWhiteouts } from "../oci/overlay-whiteouts.js";
import { errnoOf, throwIfAborted } from "../util/errors.js";
import { copyEntries, copyTree } from "./tree-copy.js";

/**
 * Writes into the existing empty directory `out` the changes that turn tree `lower` into tree `upper`
 * (`lower` undefined means empty). Neither tree may change meanwhile.
 */
export async function writeTreeDiff(lower: string | undefined, upper: string, out: string,
  opts: { signal?: AbortSignal } = {}): Promise<void> {
  if (lower === undefined) return copyTree(upper, out, opts);
  const walk = new DiffWalk(lower, upper, opts.signal);
  const [upperRoot, lowerRoot] = await Promise.all([lstat(upper, { bigint: true }), lstat(lower, { bigint: true })]);
  if (differs(upperRoot, lowerRoot)) walk.paths.add("");
  await walk.dir("");
  const paths = [...walk.paths].sort();
  await copyEntries(upper, out, paths, opts);
  await createWhiteouts(out, walk.whiteouts, opts);
  // Creating the whiteouts touched their parents' mtimes: put back upper's.
  for (const parent of new Set(walk.whiteouts.map(parentOf))) {
    const st = await lstat(join(upper, parent), { bigint: true });
    await utimes(join(out, parent), Number(st.atimeMs) / 1000, Number(st.mtimeNs) / 1e9);
  }
}

class DiffWalk {
  readonly paths = new Set<string>();
  readonly whiteouts: string[] = [];
  readonly #lower: string;
  readonly #upper: string;
  readonly #signal?: AbortSignal;

  constructor(lower: string, upper: string, signal?: AbortSignal) {
    this.#lower = lower;
    this.#upper = upper;
    this.#signal = signal;
  }

  /** Compares directory `rel`, present as a directory in both trees. */
  async dir(rel: string): Promise<void> {
    throwIfAborted(this.#signal);
    const [upperNames, lowerNames] = await Promise.all([readdir(join(this.#upper, rel)), readdir(join(this.#lower, rel))]);
    const inUpper = new Set(upperNames);
    for (const name of lowerNames) {
      if (!inUpper.has(name)) this.#whiteout(posix.join(rel, name));
    }
    const lowerSet = new Set(lowerNames);
    for (let i = 0; i < upperNames.length; i += 256) {
      const batch = upperNames.slice(i, i + 256);
      const subdirs = await Promise.all(batch.map((n) => this.#entry(posix.join(rel, n), lowerSet.has(n))));
      for (const d of subdirs) if (d !== undefined) await this.dir(d);
    }
  }

  // Compares one entry; returns its path when it is a directory in both trees (to recurse into).
  async #entry(rel: string, inLower: boolean): Promise<string | undefined> {
    const us = await lstat(join(this.#upper, rel), { bigint: true });
    const ls = inLower ? await lstatOrUndefined(join(this.#lower, rel)) : undefined;
    if (!ls || us.isDirectory() !== ls.isDirectory()) {
      await this.#addTree(rel, us);
      return undefined;
    }
    if (differs(us, ls)) this.#add(rel);
    return us.isDirectory() ? rel : undefined;
  }

  async #addTree(rel: string, st: BigIntStats): Promise<void> {
    this.#add(rel);
    if (!st.isDirectory()) return;
    // Node 20's recursive readdir does not follow symlinks.
    for (const sub of await readdir(join(this.#upper, rel), { recursive: true })) this.paths.add(posix.join(rel, sub));
  }

  #add(rel: string): void {
    this.paths.add(rel);
    for (let p = parentOf(rel); p !== "" && !this.paths.has(p); p = parentOf(p)) this.paths.add(p);
  }

  #whiteout(rel: string): void {
    this.whiteouts.push(rel);
    const parent = parentOf(rel);
    if (parent !== "") this.#add(parent);
  }
}

function parentOf(rel: string): string {
  const d = posix.dirname(rel);
  return d === "." ? "" : d;
}

function differs(a: BigIntStats, b: BigIntStats): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.mtimeNs !== b.mtimeNs) return true;
  return !a.isDirectory() && (a.size !== b.size || a.rdev !== b.rdev);
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    // Listed by readdir a moment ago; gone means the tree changed under us, which counts as absent.
    if (errnoOf(err) === "ENOENT") return undefined;
    throw err;
  }
}
