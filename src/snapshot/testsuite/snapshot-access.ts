// Test helpers: mount snapshot mounts on a temporary directory, read a whole tree, check for stray mounts.
import { randomBytes } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import assert from "node:assert/strict";
import { mountAll, unmountAll } from "../mount.js";
import type { Mount, Snapshotter } from "../snapshotter.js";

// Mount points made by withMounted in this process (test files run in parallel processes).
const ourMountPoints = new Set<string>();

/** Mounts `mounts` on a fresh temporary dir for the duration of `fn`, then unmounts and removes the dir. */
export async function withMounted<T>(mounts: readonly Mount[], fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp("/tmp/gs-mnt-");
  ourMountPoints.add(dir);
  try {
    await mountAll(mounts, dir);
    try {
      return await fn(dir);
    } finally {
      await unmountAll(dir);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The content of committed snapshot `name` through a temporary view: path → file content, "" for
 * directories, "-> target" for symlinks, "<special>" for anything else.
 */
export async function readTree(sn: Snapshotter, name: string): Promise<Record<string, string>> {
  const key = `read-${name}-${randomBytes(4).toString("hex")}`;
  try {
    return await withMounted(await sn.view(key, name), (dir) => treeOf(dir));
  } finally {
    await sn.remove(key);
  }
}

/** Reads the tree under `dir` as `readTree` describes. */
export async function treeOf(dir: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = posix.join(rel, name);
    const st = await lstat(join(dir, path));
    if (st.isDirectory()) {
      out[`${path}/`] = "";
      Object.assign(out, await treeOf(dir, path));
    } else if (st.isFile()) out[path] = await readFile(join(dir, path), "utf8");
    else if (st.isSymbolicLink()) out[path] = `-> ${await readlink(join(dir, path))}`;
    else out[path] = "<special>";
  }
  return out;
}

/**
 * Fails when anything is still mounted at or below `root`, or on a withMounted dir of this process
 * (checks /proc/self/mountinfo).
 */
export async function assertNoMountsUnder(root: string): Promise<void> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const stray = info.split("\n").filter((l) => {
    const mountPoint = l.split(" ")[4];
    return mountPoint !== undefined && (mountPoint === root || mountPoint.startsWith(`${root}/`) ||
      ourMountPoints.has(mountPoint));
  });
  assert.deepEqual(stray, [], `mounts left behind under ${root}`);
}
