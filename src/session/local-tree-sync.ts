// Incremental filtered copy of a client directory: makes `dest` (which may hold an earlier copy) an exact copy of
// `src` under the same filtering rules, touching only what differs. An entry is unchanged when its type,
// size, mode and modification time (rounded to the millisecond, as a copy sets it) match, as fsutil decides; owners are 0:0 as in a
// full copy. Nothing unchanged is written, so a dest on an overlay snapshot gets an empty upper layer when
// nothing changed, and unchanged files keep their inode and times (their checksums can be reused).
import { chmod, chown, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, realpath, rm, symlink, utimes, constants } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { Stats } from "node:fs";
import { createPatternMatcher, matchGlob, type MatchInfo, type PatternMatcher } from "../util/pattern-matcher.js";
import { errnoOf, throwIfAborted } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";
import type { LocalSyncOptions, LocalSyncStats } from "./build-session.js";

interface Sync {
  src: string;
  dest: string;
  include?: PatternMatcher;
  /** Include patterns split into components, to skip directories no pattern can reach. */
  includeParts?: string[][];
  exclude?: PatternMatcher;
  /** The first dest path of each multiply-linked source inode (once it is in place), to recreate hard links. */
  inodes: Map<string, Promise<string>>;
  stats: LocalSyncStats;
  io: Limiter;
  signal?: AbortSignal;
}

/** Syncs `src` into `dest` per the filters; returns what was copied (unchanged files are not counted). */
export async function syncLocalTree(src: string, dest: string, opts: LocalSyncOptions): Promise<LocalSyncStats> {
  const includes = [...(opts.include ?? []), ...(opts.followPaths ?? [])];
  const s: Sync = {
    src,
    dest,
    include: includes.length ? createPatternMatcher(includes) : undefined,
    includeParts: includes.length ? includeParts(includes) : undefined,
    exclude: opts.exclude?.length ? createPatternMatcher(opts.exclude) : undefined,
    inodes: new Map(),
    stats: { files: 0, bytes: 0 },
    io: new Limiter(32),
    signal: opts.signal,
  };
  await mkdir(dest, { recursive: true });
  await syncDir(s, "", undefined, undefined);
  for (const p of opts.followPaths ?? []) await followSymlinkTarget(s, p);
  return s.stats;
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (err) {
    if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") return null;
    throw err;
  }
}

/** Returns whether anything at or below `rel` is wanted (so the caller keeps the directory). */
async function syncDir(s: Sync, rel: string, incInfo: MatchInfo | undefined, excInfo: MatchInfo | undefined): Promise<boolean> {
  throwIfAborted(s.signal);
  const names = (await readdir(join(s.src, rel))).sort();
  const destNames = await readdir(join(s.dest, rel)).catch(() => [] as string[]);
  const stats = await Promise.all(names.map((n) => s.io.run(() => lstat(join(s.src, rel, n)))));
  const wanted = new Set<string>();
  const work = names.map(async (name, i) => {
    const p = rel ? `${rel}/${name}` : name;
    const st = stats[i];
    const exc = s.exclude?.matchesUsingParentResults(p, excInfo);
    if (exc?.matched && !(st.isDirectory() && s.exclude?.hasExclusions)) return;
    const inc = s.include?.matchesUsingParentResults(p, incInfo);
    const selected = (!s.include || inc?.matched === true) && !exc?.matched;
    if (st.isDirectory()) {
      if (!selected && !mayMatchBelow(s, p)) return;
      const have = await lstatOrNull(join(s.dest, p));
      if (have && !have.isDirectory()) await rm(join(s.dest, p), { force: true });
      const below = await syncDir(s, p, inc?.info, exc?.info);
      if (below || selected) {
        wanted.add(name);
        await ensureDir(s, p, st);
        await s.io.run(() => syncTimes(join(s.dest, p), st));
      }
    } else if (selected && (st.isFile() || st.isSymbolicLink())) {
      wanted.add(name);
      // Hard links wait for their first path, so they must not wait inside a limiter slot.
      if (st.isFile() && st.nlink > 1) await syncEntry(s, p, st);
      else await s.io.run(() => syncEntry(s, p, st));
    }
  });
  await Promise.all(work);
  const gone = destNames.filter((n) => !wanted.has(n));
  await Promise.all(gone.map((n) => rm(join(s.dest, rel, n), { recursive: true, force: true })));
  return wanted.size > 0;
}

// Each include pattern as per-component matchers; `**` (or an exception, which can re-include anything)
// becomes null: anything below may match.
function includeParts(patterns: readonly string[]): string[][] {
  const out: string[][] = [];
  for (const raw of patterns) {
    const p = raw.trim().replace(/^\.?\/+/, "");
    if (p === "" || p.startsWith("!") || p.includes("**")) return [];
    out.push(p.split("/").filter(Boolean));
  }
  return out;
}

/** False when no include pattern can match anything below directory `rel` (so the walk skips it). */
function mayMatchBelow(s: Sync, rel: string): boolean {
  if (!s.includeParts || s.includeParts.length === 0) return true;
  const dirs = rel.split("/");
  return s.includeParts.some((parts) => parts.length > dirs.length && dirs.every((d, i) => matchGlob(parts[i], d)));
}

async function ensureDir(s: Sync, rel: string, st: Stats): Promise<void> {
  const to = join(s.dest, rel);
  const have = await lstatOrNull(to);
  if (have && !have.isDirectory()) await rm(to, { force: true });
  if (!have || !have.isDirectory()) await mkdir(to, { recursive: true });
  if (!have?.isDirectory() || have.uid !== 0 || have.gid !== 0) await chown(to, 0, 0);
  // chown clears setuid/setgid and mkdir's mode is cut by the umask: set the mode last.
  const now = have?.isDirectory() && have.uid === 0 && have.gid === 0 ? have : await lstat(to);
  if ((now.mode & 0o7777) !== (st.mode & 0o7777)) await chmod(to, st.mode & 0o7777);
}

async function syncTimes(to: string, st: Stats): Promise<void> {
  const have = await lstat(to);
  if (Math.round(have.mtimeMs) !== Math.round(st.mtimeMs)) await utimes(to, st.atime, st.mtime);
}

function unchanged(have: Stats | null, st: Stats): boolean {
  if (!have) return false;
  const sameType = (have.isFile() && st.isFile()) || (have.isSymbolicLink() && st.isSymbolicLink());
  return sameType && have.size === st.size && Math.round(have.mtimeMs) === Math.round(st.mtimeMs)
    && (st.isSymbolicLink() || (have.mode & 0o7777) === (st.mode & 0o7777)) && have.uid === 0 && have.gid === 0;
}

async function syncEntry(s: Sync, rel: string, st: Stats): Promise<void> {
  if (!(st.isFile() && st.nlink > 1)) return syncOne(s, rel, st);
  const key = `${st.dev}:${st.ino}`;
  const first = s.inodes.get(key);
  if (first) return linkTo(s, rel, await first);
  const placed = syncOne(s, rel, st).then(() => join(s.dest, rel));
  placed.catch(() => undefined); // awaited below; later links see the failure through their own await
  s.inodes.set(key, placed);
  await placed;
}

async function linkTo(s: Sync, rel: string, first: string): Promise<void> {
  const to = join(s.dest, rel);
  const [have, firstSt] = await Promise.all([lstatOrNull(to), lstat(first)]);
  if (have && have.ino === firstSt.ino) return;
  if (have) await rm(to, { recursive: true, force: true });
  else await mkdir(dirname(to), { recursive: true });
  await link(first, to);
}

async function syncOne(s: Sync, rel: string, st: Stats): Promise<void> {
  const from = join(s.src, rel);
  const to = join(s.dest, rel);
  const have = await lstatOrNull(to);
  if (unchanged(have, st) && (!st.isSymbolicLink() || (await readlink(to)) === (await readlink(from)))) return;
  if (have) await rm(to, { recursive: true, force: true });
  else await mkdir(dirname(to), { recursive: true });
  if (st.isSymbolicLink()) {
    await symlink(await readlink(from), to);
    await lchown(to, 0, 0);
    await lutimes(to, st.atime, st.mtime);
    return;
  }
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  await chown(to, 0, 0);
  await chmod(to, st.mode & 0o7777);
  await utimes(to, st.atime, st.mtime);
  s.stats.files++;
  s.stats.bytes += st.size;
}

/** A follow path that is a symlink brings its target along (the Dockerfile may be a link). */
async function followSymlinkTarget(s: Sync, p: string): Promise<void> {
  const st = await lstatOrNull(join(s.src, p));
  if (!st?.isSymbolicLink()) return;
  const target = await realpath(join(s.src, p)).catch(() => undefined);
  if (!target) return;
  const rel = relative(s.src, target);
  if (rel.startsWith("..") || rel === "") return;
  const tst = await lstat(target);
  if (tst.isFile()) await syncEntry(s, rel, tst);
}
