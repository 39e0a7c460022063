// Test oracle: the plain (non-incremental) filtered copy that local-tree-sync.ts must match exactly.
// Copies a client directory into an engine-owned one with fsutil's filtering rules: include patterns
// (and follow paths) select, exclude patterns (with `!` exceptions) drop, parent directories of selected
// entries come along, owners become 0:0 as upstream's transfer gives them, modes, times and hard links stay.
import { chmod, chown, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, realpath, symlink, link, utimes, constants } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import type { Stats } from "node:fs";
import { createPatternMatcher, type MatchInfo, type PatternMatcher } from "../../util/pattern-matcher.js";
import { throwIfAborted } from "../../util/errors.js";
import type { LocalSyncOptions, LocalSyncStats } from "../build-session.js";

interface Walk {
  src: string;
  dest: string;
  include?: PatternMatcher;
  exclude?: PatternMatcher;
  inodes: Map<string, string>;
  stats: LocalSyncStats;
  signal?: AbortSignal;
}

/** Copies `src` into `dest` (which should be empty) per the filters; returns what was transferred. */
export async function copyLocalTree(src: string, dest: string, opts: LocalSyncOptions): Promise<LocalSyncStats> {
  const includes = [...(opts.include ?? []), ...(opts.followPaths ?? [])];
  const w: Walk = {
    src,
    dest,
    include: includes.length ? createPatternMatcher(includes) : undefined,
    exclude: opts.exclude?.length ? createPatternMatcher(opts.exclude) : undefined,
    inodes: new Map(),
    stats: { files: 0, bytes: 0 },
    signal: opts.signal,
  };
  await mkdir(dest, { recursive: true });
  await walkDir(w, "", undefined, undefined);
  for (const p of opts.followPaths ?? []) await followSymlinkTarget(w, p);
  return w.stats;
}

/** Returns whether anything below `rel` was copied (so the caller keeps the directory). */
async function walkDir(w: Walk, rel: string, incInfo: MatchInfo | undefined, excInfo: MatchInfo | undefined): Promise<boolean> {
  throwIfAborted(w.signal);
  const names = (await readdir(join(w.src, rel))).sort();
  let any = false;
  for (const name of names) {
    const p = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(w.src, p));
    const exc = w.exclude?.matchesUsingParentResults(p, excInfo);
    if (exc?.matched && !(st.isDirectory() && w.exclude?.hasExclusions)) continue;
    const inc = w.include?.matchesUsingParentResults(p, incInfo);
    const selected = (!w.include || inc?.matched === true) && !exc?.matched;
    if (st.isDirectory()) {
      if (selected) await copyEntry(w, p, st);
      const below = await walkDir(w, p, inc?.info, exc?.info);
      if (below && !selected) await copyEntry(w, p, st);
      if (below || selected) {
        await utimes(join(w.dest, p), st.atime, st.mtime);
        any = true;
      }
    } else if (selected) {
      await copyEntry(w, p, st);
      any = true;
    }
  }
  return any;
}

async function copyEntry(w: Walk, rel: string, st: Stats): Promise<void> {
  const from = join(w.src, rel);
  const to = join(w.dest, rel);
  await mkdir(posix.dirname(to), { recursive: true });
  if (st.isDirectory()) {
    await mkdir(to, { recursive: true });
    // chown clears setuid/setgid and mkdir's mode is cut by the umask: set the mode last.
    await chown(to, 0, 0);
    await chmod(to, st.mode & 0o7777);
    return;
  }
  if (st.isSymbolicLink()) {
    await symlink(await readlink(from), to);
    await lchown(to, 0, 0);
    await lutimes(to, st.atime, st.mtime);
    return;
  }
  const key = `${st.dev}:${st.ino}`;
  const first = st.nlink > 1 ? w.inodes.get(key) : undefined;
  if (first) {
    await link(first, to);
    return;
  }
  if (st.nlink > 1) w.inodes.set(key, to);
  if (!st.isFile()) return; // sockets, fifos and devices are not part of a build context
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  await chown(to, 0, 0);
  await chmod(to, st.mode & 0o7777);
  await utimes(to, st.atime, st.mtime);
  w.stats.files++;
  w.stats.bytes += st.size;
}

/** A follow path that is a symlink brings its target along (the Dockerfile may be a link). */
async function followSymlinkTarget(w: Walk, p: string): Promise<void> {
  let st: Stats;
  try {
    st = await lstat(join(w.src, p));
  } catch {
    return; // a follow path that does not exist is simply not sent
  }
  if (!st.isSymbolicLink()) return;
  const target = await realpath(join(w.src, p)).catch(() => undefined);
  if (!target) return;
  const rel = relative(w.src, target);
  if (rel.startsWith("..") || rel === "") return;
  const tst = await lstat(target);
  if (tst.isFile()) {
    await copyEntry(w, rel, tst).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    });
  }
}
