// Incremental filtered copy of a client directory: makes `dest` (which may hold an earlier copy) an exact copy of
// `src` under the same filtering rules, touching only what differs. An entry is unchanged when its type,
// size, mode and modification time (rounded to the millisecond, as a copy sets it) match, as fsutil decides; owners are 0:0 as in a
// full copy. Nothing unchanged is written, so a dest on an overlay snapshot gets an empty upper layer when
// nothing changed, and unchanged files keep their inodes and times (their checksums can be reused).
// With `previousIndex` (what the last sync left in dest, see local-tree-index.ts) the comparison reads that
// instead of dest: only the source is stat-ed, and a directory nothing was written under is not looked at.
// The walk records what dest holds afterwards and returns it as the next index.
// Speed: a directory is made before its children, so inside a new directory nothing is looked up in dest;
// each file's calls run in one limiter slot and a directory's children go FANOUT at a time, so the walk
// never queues the whole tree; new entries that already belong to 0:0 are not chowned.
import { chmod, chown, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, realpath, rm, symlink, utimes, constants } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { setImmediate as yieldLoop } from "node:timers/promises";
import { lstatSync, readlinkSync, type Stats } from "node:fs";
import { createPatternMatcher, matchGlob, type MatchInfo, type PatternMatcher } from "../util/pattern-matcher.js";
import { errnoOf, throwIfAborted } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";
import type { LocalSyncOptions, LocalSyncStats } from "./build-session.js";
import { describeEntry, LocalTreeIndex, modeOfDescription } from "./local-tree-index.js";

interface Sync {
  src: string;
  dest: string;
  /** Where dest's content before the sync is read (dest itself, or the `previous` directory). */
  before: string;
  include?: PatternMatcher;
  /** Include patterns split into components, to skip directories no pattern can reach. */
  includeParts?: string[][];
  exclude?: PatternMatcher;
  /** The first dest path of each multiply-linked source inode (once it is in place), to recreate hard links. */
  inodes: Map<string, Promise<string>>;
  stats: LocalSyncStats;
  io: Limiter;
  /** True when entries we create are ours as root, so only their group can differ from 0:0. */
  asRoot: boolean;
  signal?: AbortSignal;
  /** A trusted description of dest before the sync: compared with instead of dest itself. */
  prior?: LocalTreeIndex;
  /** What dest holds after the sync (directory → name → description), built by the walk; undefined: not kept. */
  next?: Map<string, Map<string, string>>;
  /**
   * Directories with something written at or below them (ancestors included): their own metadata is checked
   * on disk, not taken from `prior`, since a write may have changed their times.
   */
  touched: Set<string>;
  /** Awaited before dest is first read or written: with an index, dest is opened only on first need. */
  openDest: () => Promise<void>;
}

/** What is known of a dest directory while its children are synced. */
interface DestDir {
  /** Whether it exists (an unselected directory is made only when something below it is wanted). */
  exists: boolean;
  /** The names it held before this sync (none for a directory this sync made). */
  names: ReadonlySet<string> | ReadonlyMap<string, string>;
  /** From the index: each name's description before the sync (undefined: look in dest). */
  descs?: ReadonlyMap<string, string>;
  /** The group a new entry in it gets; undefined when unknown (the entry is then chowned). */
  newGid?: number;
}

/** A source entry to bring over: its stat, its description (see describeEntry) and a symlink's target. */
interface Item {
  st: Stats;
  desc: string;
  target?: string;
}

/** Children of one directory synced at once; the limiter bounds the total across directories. More
 * would not help: creates in one directory queue on its lock, and on a busy ext4 the waiters spin on it. */
const FANOUT = 8;
/** Entries stat-ed synchronously between two turns of the event loop. */
const SWEEP = 256;
const S_ISGID = 0o2000;
const NONE: ReadonlySet<string> = new Set();

/** Syncs `src` into `dest` per the filters; returns what was copied (unchanged files are not counted). */
export async function syncLocalTree(src: string, dest: string, opts: LocalSyncOptions): Promise<LocalSyncStats> {
  const includes = [...(opts.include ?? []), ...(opts.followPaths ?? [])];
  const s: Sync = {
    src,
    dest,
    before: opts.previous ?? dest,
    include: includes.length ? createPatternMatcher(includes) : undefined,
    includeParts: includes.length ? includeParts(includes) : undefined,
    exclude: opts.exclude?.length ? createPatternMatcher(opts.exclude) : undefined,
    inodes: new Map(),
    stats: { files: 0, bytes: 0 },
    io: new Limiter(32),
    asRoot: process.geteuid?.() === 0,
    signal: opts.signal,
    prior: opts.previousIndex,
    next: new Map(),
    touched: new Set(),
    openDest: onFirstCall(() => (opts.openDest ? opts.openDest() : mkdir(dest, { recursive: true }).then(() => undefined))),
  };
  // Without an index every entry is compared with dest, so it is needed at once.
  if (!s.prior) await s.openDest();
  await syncDir(s, "", undefined, undefined, await rootDir(s));
  for (const p of opts.followPaths ?? []) await followSymlinkTarget(s, p);
  return s.next ? { ...s.stats, index: new LocalTreeIndex(s.next) } : s.stats;
}

/** Calls `fn` once, on the first call; later calls get the same promise. */
function onFirstCall(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/**
 * The dest root before the sync: its names from the index when there is one. The group new entries get in
 * it is then left unknown (they are chowned), so dest is not opened just to read it.
 */
async function rootDir(s: Sync): Promise<DestDir> {
  const listing = s.prior?.dir("");
  if (listing) return { exists: true, names: listing, descs: listing };
  await s.openDest();
  return existingDir(s.before);
}

/** An existing dest directory as the index shows it (it is 0:0, so a setgid one gives new entries group 0). */
function indexedDir(s: Sync, rel: string, desc: string): DestDir | undefined {
  const listing = s.prior?.dir(rel);
  if (!listing) return undefined;
  const newGid = (modeOfDescription(desc) & S_ISGID) !== 0 ? 0 : (process.getegid?.() ?? -1);
  return { exists: true, names: listing, descs: listing, newGid };
}

/** What dest held at `p` before the sync, as a description (null: nothing); reads dest only without an index. */
function priorOf(s: Sync, here: DestDir, p: string, name: string): string | null {
  if (here.descs) return here.descs.get(name) ?? null;
  // A name the dest directory did not hold is not looked up: it cannot be there.
  if (!here.names.has(name)) return null;
  const abs = join(s.before, p);
  const st = lstatSync(abs, { throwIfNoEntry: false });
  return st ? describeEntry(st, st.isSymbolicLink() ? readlinkSync(abs) : undefined, true) : null;
}

/** Notes a write in directory `rel` (undefined: none), so it and its ancestors are checked on disk. */
function touch(s: Sync, rel: string | undefined): void {
  for (let d = rel; d !== undefined && !s.touched.has(d); d = parentOf(d)) s.touched.add(d);
}

function parentOf(rel: string): string | undefined {
  if (rel === "") return undefined;
  const i = rel.lastIndexOf("/");
  return i < 0 ? "" : rel.slice(0, i);
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (err) {
    if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") return null;
    throw err;
  }
}

async function existingDir(abs: string, st?: Stats): Promise<DestDir> {
  const [names, have] = await Promise.all([readdir(abs), st ?? lstat(abs)]);
  return { exists: true, names: new Set(names), newGid: gidInside(have) };
}

/** The group the kernel gives a new entry in this directory (setgid: the directory's own). */
function gidInside(dir: Stats): number {
  return (dir.mode & S_ISGID) !== 0 ? dir.gid : (process.getegid?.() ?? -1);
}

/** Runs `fn` on every item, `limit` at a time; waits for all, then rethrows the first failure. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.err;
}

/**
 * Returns whether anything at or below `rel` is wanted (so the caller keeps the directory). Both sides of a
 * directory are stat-ed in one synchronous sweep: for cached metadata Node's async round trip costs several
 * times the call itself, and the loop gets a turn every SWEEP entries. Only what differs is queued.
 */
async function syncDir(s: Sync, rel: string, incInfo: MatchInfo | undefined, excInfo: MatchInfo | undefined,
  here: DestDir): Promise<boolean> {
  throwIfAborted(s.signal);
  const names = (await readdir(join(s.src, rel))).sort();
  const wanted = new Set<string>();
  const listing = new Map<string, string>();
  s.next?.set(rel, listing);
  const work: Array<() => Promise<void>> = [];
  for (const [i, name] of names.entries()) {
    if (i % SWEEP === SWEEP - 1) await yieldLoop();
    const p = rel ? `${rel}/${name}` : name;
    const exc = s.exclude?.matchesUsingParentResults(p, excInfo);
    // An excluded path that nothing can re-include below is not even looked at.
    if (exc?.matched && !s.exclude?.hasExclusions) continue;
    const st = lstatSync(join(s.src, p), { throwIfNoEntry: false });
    if (st === undefined || (exc?.matched && !st.isDirectory())) continue;
    const inc = s.include?.matchesUsingParentResults(p, incInfo);
    const selected = (!s.include || inc?.matched === true) && !exc?.matched;
    if (!st.isDirectory() && !(selected && (st.isFile() || st.isSymbolicLink()))) continue;
    if (st.isDirectory() && !selected && !mayMatchBelow(s, p)) continue;
    const have = priorOf(s, here, p, name);
    if (st.isDirectory()) {
      work.push(async () => {
        if (!(await syncSubdir(s, p, st, have, selected, inc?.info, exc?.info, here))) return;
        wanted.add(name);
        listing.set(name, describeEntry(st));
      });
      continue;
    }
    const item: Item = { st, desc: "", target: st.isSymbolicLink() ? readlinkSync(join(s.src, p)) : undefined };
    item.desc = describeEntry(st, item.target);
    wanted.add(name);
    listing.set(name, item.desc);
    // Hard links wait for their first path, so they must not wait inside a limiter slot.
    if (st.isFile() && st.nlink > 1) work.push(() => syncEntry(s, p, item, here, have));
    else if (have !== item.desc) work.push(() => s.io.run(() => syncEntry(s, p, item, here, have)));
  }
  await forEachLimited(work, FANOUT, (fn) => fn());
  const gone = [...here.names.keys()].filter((n) => !wanted.has(n));
  if (gone.length > 0) {
    touch(s, rel);
    await s.openDest();
  }
  await Promise.all(gone.map((n) => rm(join(s.dest, rel, n), { recursive: true, force: true })));
  return wanted.size > 0;
}

/** Syncs a source directory; a selected one is made first, an unselected one only if something below is wanted. */
async function syncSubdir(s: Sync, rel: string, st: Stats, have: string | null, selected: boolean,
  incInfo: MatchInfo | undefined, excInfo: MatchInfo | undefined, parent: DestDir): Promise<boolean> {
  const to = join(s.dest, rel);
  const madeGid = parent.exists ? parent.newGid : undefined;
  const dir = await s.io.run(async (): Promise<DestDir> => {
    if (have !== null && have.startsWith("d")) {
      const indexed = parent.descs && indexedDir(s, rel, have);
      if (indexed) return indexed;
      await s.openDest();
      return existingDir(join(s.before, rel));
    }
    if (have !== null) {
      touch(s, parentOf(rel));
      await s.openDest();
      await rm(to, { force: true });
    }
    if (!selected) return { exists: false, names: NONE };
    touch(s, parentOf(rel));
    await s.openDest();
    if (!parent.exists) await mkdir(dirname(to), { recursive: true });
    // Private until its children are in; its mode is set afterwards.
    await mkdir(to, 0o700);
    // A parent whose group is unknown (the root, with an index) is asked now that dest is open.
    const gid = madeGid ?? (parent.exists ? gidInside(await lstat(dirname(to))) : undefined);
    return { exists: true, names: NONE, newGid: gid };
  });
  const below = await syncDir(s, rel, incInfo, excInfo, dir);
  if (!below && !selected) {
    s.next?.delete(rel);
    return false;
  }
  const made = dir.exists && dir.names === NONE;
  // The index shows it as the source has it and nothing was written at or below it: dest is as it was.
  if (!made && dir.descs !== undefined && have === describeEntry(st) && !s.touched.has(rel)) return true;
  touch(s, parentOf(rel));
  await s.io.run(() => finishDir(s, to, st, made ? dir.newGid : undefined));
  return true;
}

/**
 * Sets a directory's owner (0:0), mode and times after its children are in, making it first if no child
 * did. `madeGid` is the group of a directory this sync created (its owner is us) and therefore not yet chmodded.
 */
async function finishDir(s: Sync, to: string, st: Stats, madeGid: number | undefined): Promise<void> {
  await s.openDest();
  const want = st.mode & 0o7777;
  if (madeGid !== undefined) {
    if (!(s.asRoot && madeGid === 0)) await chown(to, 0, 0);
    await chmod(to, want);
    await utimes(to, st.atime, st.mtime);
    return;
  }
  let have = await lstatOrNull(to);
  if (have && !have.isDirectory()) await rm(to, { force: true });
  if (!have?.isDirectory()) {
    await mkdir(to, { recursive: true });
    have = null;
  }
  const chowned = !have || have.uid !== 0 || have.gid !== 0;
  if (chowned) await chown(to, 0, 0);
  // chown clears setuid/setgid and mkdir's mode is cut by the umask: set the mode last.
  if (chowned || (have !== null && (have.mode & 0o7777) !== want)) await chmod(to, want);
  if (!have || Math.round(have.mtimeMs) !== Math.round(st.mtimeMs)) await utimes(to, st.atime, st.mtime);
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

/** What dest holds at `abs` as a description (null: nothing), owners checked. */
async function destDescription(abs: string): Promise<string | null> {
  const st = await lstatOrNull(abs);
  return st ? describeEntry(st, st.isSymbolicLink() ? await readlink(abs) : undefined, true) : null;
}

/**
 * `here` describes the dest directory of `rel` and `have` what dest holds at `rel` (null: nothing); without
 * them, dest is looked up and missing parents are made. An entry whose description equals `have` is left.
 */
async function syncEntry(s: Sync, rel: string, item: Item, here?: DestDir, have?: string | null): Promise<void> {
  const { st } = item;
  if (!(st.isFile() && st.nlink > 1)) return syncOne(s, rel, item, here, have);
  const key = `${st.dev}:${st.ino}`;
  const first = s.inodes.get(key);
  if (first) return linkTo(s, rel, await first);
  const placed = syncOne(s, rel, item, here, have).then(() => join(s.dest, rel));
  placed.catch(() => undefined); // awaited below; later links see the failure through their own await
  s.inodes.set(key, placed);
  await placed;
}

async function linkTo(s: Sync, rel: string, first: string): Promise<void> {
  await s.openDest();
  const to = join(s.dest, rel);
  const [have, firstSt] = await Promise.all([lstatOrNull(to), lstat(first)]);
  if (have && have.ino === firstSt.ino) return;
  touch(s, parentOf(rel));
  if (have) await rm(to, { recursive: true, force: true });
  else await mkdir(dirname(to), { recursive: true });
  await link(first, to);
}

async function syncOne(s: Sync, rel: string, item: Item, here?: DestDir, known?: string | null): Promise<void> {
  const { st } = item;
  const from = join(s.src, rel);
  const to = join(s.dest, rel);
  if (known === undefined) await s.openDest();
  const have = known === undefined ? await destDescription(to) : known;
  if (have === item.desc) return;
  touch(s, parentOf(rel));
  await s.openDest();
  if (have !== null) await rm(to, { recursive: true, force: true });
  else if (!here?.exists) await mkdir(dirname(to), { recursive: true });
  // A new entry is ours; as root in a directory whose new entries get group 0, it is 0:0 already.
  const owned = s.asRoot && here?.exists === true && here.newGid === 0;
  if (st.isSymbolicLink()) {
    // The target the walk saw, so dest matches the description recorded for it.
    await symlink(item.target ?? (await readlink(from)), to);
    if (!owned) await lchown(to, 0, 0);
    await lutimes(to, st.atime, st.mtime);
    return;
  }
  // copyFile gives the copy the source's mode; chown would clear setuid/setgid, so the mode is set again then.
  // Nothing is at `to` now: EXCL spares libuv's same-file check and truncation.
  await copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  if (!owned) {
    await chown(to, 0, 0);
    await chmod(to, st.mode & 0o7777);
  }
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
  if (!tst.isFile()) return;
  const item: Item = { st: tst, desc: describeEntry(tst) };
  // The walk recorded it as it is, so the walk put it in place: nothing to do (dest need not be opened).
  if (s.next?.get(parentOf(rel) ?? "")?.get(basename(rel)) === item.desc) return;
  // A file the walk did not record as it is: the next index would not describe dest, so none is kept.
  s.next = undefined;
  await syncEntry(s, rel, item);
}
