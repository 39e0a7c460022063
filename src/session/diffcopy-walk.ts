// The sender's view of a directory: fsutil's filtered walk. Entries come depth-first, sorted by byte
// order within each directory, each directory before its children. A directory that does not match
// itself is still walked when something below may match, and is sent (before that child) only if it is.
// The file system is read with synchronous calls: for cached metadata Node's async round trip costs
// several times the call itself. The walk is a plain loop over an explicit stack (a generator per
// directory made every entry climb through one frame per level), and the caller pulls entries in slices.
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from "node:fs";
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

/** One directory being listed: its sorted names, the next one to look at, and the match state it inherits. */
interface Frame {
  dir: string;
  names: string[];
  next: number;
  incInfo: MatchInfo | undefined;
  excInfo: MatchInfo | undefined;
  /** The directory's own Stat (undefined for the root) and whether it has been sent. */
  stat: Stat | undefined;
  sent: boolean;
}

/**
 * A filtered walk of one tree, pulled one entry at a time. Each Stat is yielded once, in fsutil's order;
 * the root itself is not. Throws Canceled (checked per directory) once `signal` aborts.
 */
export class SendWalk {
  readonly #base: string;
  readonly #include: Matcher | undefined;
  readonly #exclude: Matcher | undefined;
  readonly #resetOwner: boolean;
  readonly #signal: AbortSignal | undefined;
  /** dev:ino → path of the first occurrence sent, for hard links. */
  readonly #inodes = new Map<string, string>();
  readonly #stack: Frame[] = [];
  /** Parent directories queued to go out before the entry that made them needed. */
  readonly #pending: Stat[] = [];

  /** Use `openSendWalk`, which resolves follow paths first. */
  constructor(root: string, includes: readonly string[], opts: WalkOptions) {
    this.#base = root === "" ? "" : root.endsWith("/") ? root : `${root}/`;
    this.#include = includes.length ? compileMatcher(includes, false) : undefined;
    this.#exclude = opts.exclude?.length ? compileMatcher(opts.exclude, true) : undefined;
    this.#resetOwner = opts.resetOwner ?? false;
    this.#signal = opts.signal;
    this.#push("", undefined, true, undefined, undefined);
  }

  /** The next entry to send, or undefined when the walk is over. */
  next(): Stat | undefined {
    if (this.#pending.length) return this.#pending.shift();
    for (;;) {
      const top = this.#stack[this.#stack.length - 1];
      if (top === undefined) return undefined;
      if (top.next >= top.names.length) {
        this.#stack.pop();
        continue;
      }
      const name = top.names[top.next++];
      const stat = this.#visit(top, top.dir ? `${top.dir}/${name}` : name);
      if (stat) return stat;
    }
  }

  /** Looks at one entry: returns its Stat when it goes out now, and descends into directories. */
  #visit(parent: Frame, rel: string): Stat | undefined {
    const st = lstatSync(this.#base + rel, { bigint: true, throwIfNoEntry: false });
    if (!st) return undefined; // removed while we walked
    const isDir = st.isDirectory();
    let skip = false;
    let inc: MatchInfo | undefined;
    let exc: MatchInfo | undefined;
    if (this.#include) {
      const r = this.#include.m.matchesUsingParentResults(rel, parent.incInfo);
      inc = r.info;
      if (!r.matched) {
        if (!isDir || (this.#include.onlyPrefix && !hasPrefixUnder(this.#include, rel))) return undefined;
        skip = true;
      }
    }
    if (this.#exclude) {
      const r = this.#exclude.m.matchesUsingParentResults(rel, parent.excInfo);
      exc = r.info;
      if (r.matched) {
        if (!isDir) return undefined;
        if (this.#exclude.onlyPrefix && (!this.#exclude.m.hasExclusions || !hasPrefixUnder(this.#exclude, rel))) return undefined;
        skip = true;
      }
    }
    const stat = this.#makeStat(rel, st);
    if (!skip) {
      this.#queueParents();
      this.#recordInode(rel, st);
      this.#pending.push(stat);
    }
    if (isDir && isDirGoMode(stat.mode)) this.#push(rel, stat, !skip, inc, exc);
    return this.#pending.shift();
  }

  #push(dir: string, stat: Stat | undefined, sent: boolean, incInfo: MatchInfo | undefined, excInfo: MatchInfo | undefined): void {
    throwIfAborted(this.#signal);
    const names = readdirSync(dir ? this.#base + dir : this.#base || ".");
    this.#stack.push({ dir, names: sortBytes(names), next: 0, incInfo, excInfo, stat, sent });
  }

  /** Directories on the way down that were held back (not matching themselves) go out first. */
  #queueParents(): void {
    for (const f of this.#stack) {
      if (f.sent) continue;
      f.sent = true;
      if (f.stat) this.#pending.push(f.stat);
    }
  }

  #makeStat(rel: string, st: BigIntStats): Stat {
    const linkname = st.isSymbolicLink() ? readlinkSync(this.#base + rel) : "";
    const stat = statFromFs(rel, st, linkname);
    if (this.#resetOwner) {
      stat.uid = 0;
      stat.gid = 0;
    }
    if (st.nlink > 1n && !st.isDirectory()) {
      const first = this.#inodes.get(`${st.dev}:${st.ino}`);
      // fsutil keeps the size on later links; receivers link them without asking for data
      if (first !== undefined) stat.linkname = first;
    }
    return stat;
  }

  /** Only entries actually sent can be the target of a later hard link. */
  #recordInode(rel: string, st: BigIntStats): void {
    if (st.nlink <= 1n || st.isDirectory()) return;
    const key = `${st.dev}:${st.ino}`;
    if (!this.#inodes.has(key)) this.#inodes.set(key, rel);
  }
}

/** Starts a filtered walk of `root` (follow paths resolved first, as they narrow what is listed). */
export async function openSendWalk(root: string, opts: WalkOptions = {}): Promise<SendWalk> {
  const includes = [...(opts.include ?? [])];
  if (opts.followPaths?.length) {
    const targets = await resolveFollowPaths(root, opts.followPaths);
    // undefined: a follow path resolved to the root, so nothing is narrowed
    if (targets) includes.push(...targets.filter((t) => !includes.includes(t)));
  }
  return new SendWalk(root, includes, opts);
}

/** Walks `root` per the filter, yielding one Stat per entry to send (the root itself is not sent). */
export async function* walkForSend(root: string, opts: WalkOptions = {}): AsyncGenerator<Stat> {
  const walk = await openSendWalk(root, opts);
  for (let s = walk.next(); s; s = walk.next()) yield s;
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

/** A code unit at or above U+D800, where UTF-16 and UTF-8 orders can disagree. */
const NON_BMP = /[\ud800-\uffff]/;

/** Sorts directory names in place by byte order; the built-in (UTF-16) sort when no name can differ. */
function sortBytes(names: string[]): string[] {
  for (const n of names) if (NON_BMP.test(n)) return names.sort(compareBytes);
  return names.sort();
}

/** Byte-wise order of the UTF-8 names, as Go sorts directory entries. */
export function compareBytes(a: string, b: string): number {
  // UTF-16 order equals UTF-8 byte order except around surrogates: only such names need the encoding.
  if (!NON_BMP.test(a) && !NON_BMP.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
