// Applying a layer directory in overlay form onto a full tree, as a union mount would show it: whiteouts
// delete, opaque directories drop what was below them, everything else replaces what is there. The copy
// snapshotter stacks layers this way for merges (and could for image pulls: applyLayer into a temporary
// layer dir, then this).
import type { Dirent } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import { listOpaqueDirs } from "../oci/overlay-whiteouts.js";
import { errnoOf, throwIfAborted } from "../util/errors.js";
import { copyEntries } from "./tree-copy.js";

/** Applies layer directory `layer` onto the tree at `target` (both existing directories). */
export async function applyLayerDir(layer: string, target: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const opaque = await listOpaqueDirs(layer, opts);
  const paths: string[] = [""];
  if (opaque.has("")) await emptyDir(target);
  const walk = async (rel: string): Promise<void> => {
    throwIfAborted(opts.signal);
    const entries = await readdir(join(layer, rel), { withFileTypes: true });
    for (let i = 0; i < entries.length; i += 128) {
      const subdirs = await Promise.all(entries.slice(i, i + 128).map((e) => clearFor(e, posix.join(rel, e.name))));
      for (const d of subdirs) if (d !== undefined) await walk(d);
    }
  };
  // Prepares `target` for one layer entry; returns the path when it is a directory to descend into.
  const clearFor = async (e: Dirent, rel: string): Promise<string | undefined> => {
    const dst = join(target, rel);
    if (e.isCharacterDevice() && (await lstat(join(layer, rel))).rdev === 0) {
      await rm(dst, { recursive: true, force: true });
      return undefined;
    }
    const existing = await lstatOrUndefined(dst);
    if (e.isDirectory()) {
      if (existing && !existing.isDirectory()) await rm(dst, { force: true });
      else if (existing && opaque.has(rel)) await emptyDir(dst);
    } else if (existing) {
      await rm(dst, { recursive: true, force: true });
    }
    paths.push(rel);
    return e.isDirectory() ? rel : undefined;
  };
  await walk("");
  await copyEntries(layer, target, paths.sort(), opts);
}

async function emptyDir(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

async function lstatOrUndefined(path: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    // Absent in the target: the layer adds it.
    if (errnoOf(err) === "ENOENT") return undefined;
    throw err;
  }
}
