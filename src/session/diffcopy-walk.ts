// The sender's view of a directory: fsutil's filtered walk. Entries come depth-first, sorted by byte
// order within each directory, each directory before its children. A directory that does not match
// itself is still walked when something below may match, and is sent (before that child) only if it is.
// The file system is read with synchronous calls: for cached metadata Node's async round trip costs
// several times the call itself, and the consumer gets the loop back between entries it sends.
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import type { Stat } from "../gen/fsutil/types/stat_pb.js";
import { throwIfAborted } from "../util/errors.js";
import { createPatternMatcher, type MatchInfo, type PatternMatcher } from "../util/pattern-matcher.js";
import { isDirGoMode, statFromFs } from "./fsutil-stat.js";
import { resolveFollowPaths } from "./follow-paths.js";

export interface WalkFilter {
  /** Only entries matching these (and the parents of matches) are sent. */
  include?: readonly string[];
  /** Entries matching these are left out; `!` patterns re-include. */
  exclude?: readonly string[];
  /** Paths always sent; symlinks on the way are resolved and their targets sent too. */
  followPaths?: readonly string[];
}

export interface WalkOptions extends WalkFilter {
  /** Send uid/gid as 0, as buildctl does for local contexts. */
  resetOwner?: boolean;
  signal?: AbortSignal;
}

const PATTERN_CHARS = /[*[\]?^\\]/;

interface Matcher {
  m: PatternMatcher;
  /** True when no relevant pattern has glob characters before a trailing `/*` or `/**`. */
  onlyPrefix: boolean;
  /** The relevant patterns with a trailing glob removed, for the prefix test. */
  prefixes: string[];
}

interface Walk {
  root: string;
  include?: Matcher;
  exclude?: Matcher;
  resetOwner: boolean;
  signal?: AbortSignal;
  /** dev:ino → path of the first occurrence sent, for hard links. */
  inodes: Map<string, string>;
}

interface Parent {
  stat: Stat;
  sent: boolean;
}

/** Walks `root` per the filter, yielding one Stat per entry to send (the root itself is not sent). */
export async function* walkForSend(root: string, opts: WalkOptions = {}): AsyncGenerator<Stat> {
  const includes = [...(opts.include ?? [])];
  if (opts.followPaths?.length) {
    const targets = await resolveFollowPaths(root, opts.followPaths);
    // undefined: a follow path resolved to the root, so nothing is narrowed
    if (targets) includes.push(...targets.filter((t) => !includes.includes(t)));
  }
  const w: Walk = {
    root,
    include: includes.length ? compileMatcher(includes, false) : undefined,
    exclude: opts.exclude?.length ? compileMatcher(opts.exclude, true) : undefined,
    resetOwner: opts.resetOwner ?? false,
    signal: opts.signal,
    inodes: new Map(),
  };
  yield* walkDir(w, "", [], undefined, undefined);
}

function compileMatcher(patterns: readonly string[], exceptions: boolean): Matcher {
  const m = createPatternMatcher(patterns);
  // For includes the plain patterns decide whether a directory can hold matches; for excludes the `!` ones.
  const relevant = m.patterns.filter((p) => p.startsWith("!") === exceptions).map((p) => (exceptions ? p.slice(1) : p));
  const prefixes = relevant.map((p) => p.replace(/\/\*\*$/, "").replace(/\/\*$/, ""));
  return { m, onlyPrefix: !prefixes.some((p) => PATTERN_CHARS.test(p)), prefixes };
}

function hasPrefixUnder(matcher: Matcher, dir: string): boolean {
  return matcher.prefixes.some((p) => `${p}/`.startsWith(`${dir}/`));
}

async function* walkDir(w: Walk, dir: string, parents: Parent[], incInfo: MatchInfo | undefined,
  excInfo: MatchInfo | undefined): AsyncGenerator<Stat> {
  throwIfAborted(w.signal);
  const names = readdirSync(join(w.root, dir)).sort(compareBytes);
  for (const name of names) {
    const rel = dir ? `${dir}/${name}` : name;
    const st = lstatSync(join(w.root, rel), { bigint: true, throwIfNoEntry: false });
    if (!st) continue; // removed while we walked
    const isDir = st.isDirectory();
    let skip = false;
    let inc: MatchInfo | undefined;
    let exc: MatchInfo | undefined;
    if (w.include) {
      const r = w.include.m.matchesUsingParentResults(rel, incInfo);
      inc = r.info;
      if (!r.matched) {
        if (!isDir || (w.include.onlyPrefix && !hasPrefixUnder(w.include, rel))) continue;
        skip = true;
      }
    }
    if (w.exclude) {
      const r = w.exclude.m.matchesUsingParentResults(rel, excInfo);
      exc = r.info;
      if (r.matched) {
        if (!isDir) continue;
        if (w.exclude.onlyPrefix && (!w.exclude.m.hasExclusions || !hasPrefixUnder(w.exclude, rel))) continue;
        skip = true;
      }
    }
    const stat = makeStat(w, rel, st);
    if (!skip) {
      yield* sendParents(parents);
      recordInode(w, rel, st);
      yield stat;
    }
    if (isDir && isDirGoMode(stat.mode)) {
      parents.push({ stat, sent: !skip });
      yield* walkDir(w, rel, parents, inc, exc);
      parents.pop();
    }
  }
}

function* sendParents(parents: Parent[]): Generator<Stat> {
  for (const p of parents) {
    if (p.sent) continue;
    p.sent = true;
    yield p.stat;
  }
}

function makeStat(w: Walk, rel: string, st: BigIntStats): Stat {
  const linkname = st.isSymbolicLink() ? readlinkSync(join(w.root, rel)) : "";
  const stat = statFromFs(rel, st, linkname);
  if (w.resetOwner) {
    stat.uid = 0;
    stat.gid = 0;
  }
  if (!st.isDirectory() && st.nlink > 1n) {
    const first = w.inodes.get(`${st.dev}:${st.ino}`);
    // fsutil keeps the size on later links; receivers link them without asking for data
    if (first !== undefined) stat.linkname = first;
  }
  return stat;
}

/** Only entries actually sent can be the target of a later hard link. */
function recordInode(w: Walk, rel: string, st: BigIntStats): void {
  if (st.isDirectory() || st.nlink <= 1n) return;
  const key = `${st.dev}:${st.ino}`;
  if (!w.inodes.has(key)) w.inodes.set(key, rel);
}


/** A code unit at or above U+D800, where UTF-16 and UTF-8 orders can disagree. */
const NON_BMP = /[\ud800-\uffff]/;

/** Byte-wise order of the UTF-8 names, as Go sorts directory entries. */
export function compareBytes(a: string, b: string): number {
  // UTF-16 order equals UTF-8 byte order except around surrogates: only such names need the encoding.
  if (!NON_BMP.test(a) && !NON_BMP.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
