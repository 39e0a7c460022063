// Disk usage of a snapshot directory. Most snapshots are small RUN layers, where spawning du(1) twice
// (bytes, then inodes) costs far more than walking them here; but Node's lstat is ~10x slower than du's
// per entry, so a tree past a few hundred entries is handed to du after all.
import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { errnoOf } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";
import { runTool } from "../oci/run-tool.js";
import type { Usage } from "./snapshotter.js";

/** Entries walked in this process before the tree counts as big and du measures it instead. */
const IN_PROCESS_LIMIT = 500;

/** Thrown inside the walk to stop it once the tree is past IN_PROCESS_LIMIT. */
class TooBig extends Error {}

/** lstat calls in flight at once: enough to keep libuv's threads busy, few enough to leave them to others. */
const WALK_CONCURRENCY = 16;

/**
 * Bytes allocated and inodes used under `dir`, itself included (hardlinks counted once), without crossing
 * into other file systems: what `du -s -x -B1` and `du -s -x --inodes` report. Entries that vanish during
 * the walk are skipped; abort is Canceled.
 */
export async function diskUsage(dir: string, opts: { signal?: AbortSignal } = {}): Promise<Usage> {
  try {
    return await walkUsage(dir, IN_PROCESS_LIMIT, opts.signal);
  } catch (err) {
    if (!(err instanceof TooBig)) throw err;
  }
  const [bytes, inodes] = await Promise.all([
    runTool("du", ["-s", "-x", "-B1", dir], { signal: opts.signal }),
    runTool("du", ["-s", "-x", "--inodes", dir], { signal: opts.signal }),
  ]);
  return { size: Number.parseInt(bytes, 10), inodes: Number.parseInt(inodes, 10) };
}

/** The in-process walk; throws TooBig after `limit` entries. Exported for tests. */
export async function walkUsage(dir: string, limit: number, signal?: AbortSignal): Promise<Usage> {
  const top = await lstat(dir);
  const usage: Usage = { size: top.blocks * 512, inodes: 1 };
  if (!top.isDirectory()) return usage;
  const limiter = new Limiter(WALK_CONCURRENCY);
  const seen = new Set<number>();
  let visited = 0;
  const visit = async (p: string): Promise<void> => {
    if (++visited > limit) throw new TooBig();
    const st = await limiter.run(() => lstatOptional(p), signal);
    if (!st || st.dev !== top.dev) return;
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    usage.size += st.blocks * 512;
    usage.inodes++;
    if (st.isDirectory()) await walk(p);
  };
  const walk = async (d: string): Promise<void> => {
    const names = await limiter.run(() => readOptionalDir(d), signal);
    await Promise.all(names.map((n) => visit(join(d, n))));
  };
  await walk(dir);
  return usage;
}

async function lstatOptional(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    // Removed while we walked: nothing left to count.
    if (errnoOf(err) === "ENOENT") return undefined;
    throw err;
  }
}

async function readOptionalDir(d: string): Promise<string[]> {
  try {
    return await readdir(d);
  } catch (err) {
    // Removed (or replaced by a file) while we walked: nothing left to count.
    if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") return [];
    throw err;
  }
}
