// Copies one source entry (a file, a symlink or a whole tree) onto a target path with `cp -a`-like
// semantics, following fsutil's copier: symlinks inside the tree are copied as links, hard links within
// one copy stay hard links, include/exclude patterns filter by path below the source, and directories that
// only hold included entries are created lazily. Entries are copied in parallel, bounded by a Limiter
// (one slot per file), and chown is skipped for new entries that already have the wanted owner.
import { constants, lstatSync } from "node:fs";
import type { Stats } from "node:fs";
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, unlink, utimes,
  writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setImmediate as yieldLoop } from "node:timers/promises";
import { canceledError, GantryError } from "../../util/errors.js";
import type { Limiter } from "../../util/limiter.js";
import type { MatchInfo, PatternMatcher } from "../../util/pattern-matcher.js";
import { fsError, isErrno } from "./fs-error.js";
import { makeNode, splitDevice } from "./make-node.js";
import type { Owner } from "./resolve-owner.js";
import { displayPath } from "./root-path.js";

/** Settings for one copy; a TreeCopier is used for one source (hard links are tracked per copier). */
export interface TreeCopierOptions {
  srcRoot: string;
  destRoot: string;
  /** Bounds the entries in progress: a file holds one slot for all its fs calls. */
  limiter: Limiter;
  /** Owner for everything copied; undefined keeps each source entry's uid/gid. */
  owner?: Owner;
  /** Replaces the permission bits (0o777) of copied files and dirs; the source's special bits stay. */
  mode?: number;
  /** atime/mtime for everything copied; undefined keeps the source's. */
  timestamp?: Date;
  include?: PatternMatcher;
  exclude?: PatternMatcher;
  /** Replace an existing target of another type (a dir over a file…) instead of failing. */
  alwaysReplaceExistingDestPaths?: boolean;
  signal?: AbortSignal;
}

interface DirNode {
  /** Creates this directory (and its parents) if a descendant is copied; memoised. */
  ensure(): Promise<void>;
  created: boolean;
  /** The group a new entry in this directory gets; undefined when unknown (the entry is then chowned). */
  newGid?: number;
}

interface Filter {
  include: boolean;
  excluded: boolean;
  includeInfo?: MatchInfo;
  excludeInfo?: MatchInfo;
}

/** A source entry to copy, with its stat and filter result. */
interface SourceEntry {
  src: string;
  /** Path below the copied source ("" for the source itself), as the patterns see it. */
  rel: string;
  st: Stats;
  filter: Filter;
}

/** A source directory met by the walk: its children, and what is left to do after them. */
interface DirVisit {
  targetSt: Stats | undefined;
  node: DirNode;
  children: SourceEntry[];
}

const NO_FILTER: Filter = { include: true, excluded: false };
/** Children of one directory copied at once; the limiter bounds the total across directories. More
 * would not help: creates in one directory queue on its lock, and on a busy ext4 the waiters spin on it. */
const FANOUT = 8;
/** The target is known to be absent: EXCL spares libuv's same-file check and truncation; reflink if possible. */
const NEW_FILE = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;
/** Entries stat-ed synchronously between two turns of the event loop. */
const SWEEP = 256;
const S_ISGID = 0o2000;

/** Copies source trees to targets; see the file comment for the semantics. */
export class TreeCopier {
  readonly #o: TreeCopierOptions;
  readonly #inodes = new Map<string, Promise<string>>();
  readonly #euid = process.geteuid?.() ?? -1;
  readonly #egid = process.getegid?.() ?? -1;
  #failure: unknown;

  constructor(opts: TreeCopierOptions) {
    this.#o = opts;
  }

  /**
   * Copies the entry at host path `src` to host path `target` (whose parent exists). An existing
   * directory target is merged into; its own metadata is kept except its times.
   */
  async copy(src: string, target: string): Promise<void> {
    const up = await lstat(dirname(target)).catch(() => undefined);
    const parent: DirNode = { created: false, ensure: () => Promise.resolve(),
      newGid: up?.isDirectory() ? this.#gidInside(up.mode, up.gid) : undefined };
    const st = await this.#io("lstat", src, () => lstat(src), true);
    await this.#copyEntry({ src, rel: "", st, filter: NO_FILTER }, target, false, parent);
  }

  async #copyEntry(e: SourceEntry, target: string, overwrite: boolean, parent: DirNode): Promise<void> {
    const { st, filter } = e;
    // One limiter slot covers a file's few fs calls; a directory gives its slot back while its children copy.
    const dir = await this.#slot(() => this.#visit(e, target, overwrite, parent));
    if (dir === undefined) return;
    await this.#forEachChild(dir.children, (c) => this.#copyEntry(c, join(target, basename(c.src)), true, dir.node));
    await this.#slot(async () => {
      const { node, targetSt } = dir;
      if (overwrite ? filter.include || node.created : node.created) {
        await this.#applyInfo(st, target, node.created ? parent.newGid : undefined);
      } else if (!overwrite && targetSt !== undefined) {
        await this.#applyTimes(st, target);
      }
    });
  }

  /**
   * The children of a source directory worth visiting, stat-ed in one synchronous sweep: for cached
   * metadata Node's async round trip costs several times the call; the loop gets a turn every SWEEP entries.
   */
  async #children(dir: SourceEntry, names: readonly string[]): Promise<SourceEntry[]> {
    const out: SourceEntry[] = [];
    for (const [i, name] of names.entries()) {
      if (i % SWEEP === SWEEP - 1) await yieldLoop();
      const rel = dir.rel === "" ? name : `${dir.rel}/${name}`;
      const filter = this.#filter(rel, dir.filter);
      // An excluded path with nothing that could re-include its children is not even looked at.
      if (!filter.include && this.#o.include === undefined && !(this.#o.exclude?.hasExclusions ?? false)) continue;
      const src = join(dir.src, name);
      let st: Stats;
      try {
        st = lstatSync(src);
      } catch (err) {
        throw fsError("lstat", displayPath(this.#o.srcRoot, src), err);
      }
      if (filter.include || st.isDirectory()) out.push({ src, rel, st, filter });
    }
    return out;
  }

  /** Copies a non-directory entirely; for a directory, makes it and lists the children still to copy. */
  async #visit(e: SourceEntry, target: string, overwrite: boolean, parent: DirNode): Promise<DirVisit | undefined> {
    const { src, rel, st, filter } = e;
    if (this.#failure !== undefined) throw this.#failure;
    if (!filter.include && !st.isDirectory()) return undefined;
    // Inside a directory this copy just created, nothing can be in the way.
    let targetSt = parent.created ? undefined : await this.#lstatTarget(target);
    if (filter.include) {
      if (targetSt !== undefined && this.#o.alwaysReplaceExistingDestPaths && !(st.isDirectory() && targetSt.isDirectory())) {
        await this.#io("remove", target, () => rm(target, { recursive: true, force: true }));
        targetSt = undefined;
      }
      await parent.ensure();
    }
    if (!st.isDirectory()) {
      if (targetSt !== undefined) {
        if (targetSt.isDirectory()) {
          throw new GantryError("FailedPrecondition",
            `Cannot copy ${JSON.stringify("/" + rel)}: cannot replace to directory ${this.#show(target)} with file.`);
        }
        await this.#io("unlink", target, () => unlink(target));
      }
      const fresh = await this.#copyNonDir(src, target, st);
      await this.#applyInfo(st, target, fresh ? parent.newGid : undefined);
      return undefined;
    }
    const node = await this.#dirNode(target, st, overwrite, filter, parent, targetSt);
    if (filter.excluded && !(this.#o.exclude?.hasExclusions ?? false)) return { targetSt, node, children: [] };
    const names = await this.#io("readdir", src, () => readdir(src), true);
    return { targetSt, node, children: await this.#children(e, names) };
  }

  #filter(rel: string, parent: Filter): Filter {
    const out: Filter = { include: true, excluded: false };
    if (this.#o.include !== undefined) {
      const r = this.#o.include.matchesUsingParentResults(rel, parent.includeInfo);
      out.include = r.matched;
      out.includeInfo = r.info;
    }
    if (this.#o.exclude !== undefined) {
      const r = this.#o.exclude.matchesUsingParentResults(rel, parent.excludeInfo);
      out.excludeInfo = r.info;
      if (r.matched) {
        out.include = false;
        out.excluded = true;
      }
    }
    return out;
  }

  async #dirNode(target: string, st: Stats, overwrite: boolean, filter: Filter, parent: DirNode,
    targetSt: Stats | undefined): Promise<DirNode> {
    const node: DirNode = { created: false, ensure: () => Promise.resolve() };
    if (filter.include) {
      node.created = await this.#makeDir(target, st, overwrite, targetSt);
      // A new directory hands its parent's group on (setgid parent: the dir is setgid too; else ours).
      if (node.created) node.newGid = parent.newGid;
      else if (targetSt !== undefined) node.newGid = this.#gidInside(overwrite ? st.mode : targetSt.mode, targetSt.gid);
    } else {
      // Not copied for itself: made only when an included descendant needs it.
      let pending: Promise<void> | undefined;
      node.ensure = () => (pending ??= (async () => {
        await parent.ensure();
        node.created = await this.#makeDir(target, st, overwrite, await this.#lstatTarget(target));
      })());
    }
    return node;
  }

  /** The group the kernel gives a new entry in a directory of this mode and group. */
  #gidInside(mode: number, gid: number): number {
    return (mode & S_ISGID) !== 0 ? gid : this.#egid;
  }

  /** Makes the target directory; true when it did not exist. */
  async #makeDir(target: string, st: Stats, overwrite: boolean, targetSt: Stats | undefined): Promise<boolean> {
    if (targetSt === undefined) {
      return this.#io("mkdir", target, async () => {
        try {
          // Permissions are set after the children are in (a 0500 dir must still take them).
          await mkdir(target, 0o700);
          return true;
        } catch (err) {
          if (isErrno(err, "EEXIST") && (await lstat(target)).isDirectory()) return false;
          throw err;
        }
      });
    }
    if (!targetSt.isDirectory()) {
      throw new GantryError("FailedPrecondition", `Cannot copy to non-directory: ${this.#show(target)}.`);
    }
    if (overwrite) await this.#io("chmod", target, () => chmod(target, st.mode & 0o7777));
    return false;
  }

  /** Makes the entry; true when it is a new inode (a hard link to an earlier copy is not). */
  async #copyNonDir(src: string, target: string, st: Stats): Promise<boolean> {
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.#inodes.get(key);
        if (first !== undefined) {
          // The first copy runs in a slot of its own and waits on nothing, so waiting here cannot deadlock.
          const firstTarget = await first;
          await this.#io("link", target, () => link(firstTarget, target));
          return false;
        }
        const copied = this.#io("copy", target, () => copyFile(src, target, NEW_FILE)).then(() => target);
        this.#inodes.set(key, copied);
        await copied;
        return true;
      }
      await this.#io("copy", target, () => copyFile(src, target, NEW_FILE));
    } else if (st.isSymbolicLink()) {
      const dest = await this.#io("readlink", src, () => readlink(src), true);
      await this.#io("symlink", target, () => symlink(dest, target));
    } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDevice(st.rdev);
      const kind = st.isFIFO() ? "fifo" : st.isCharacterDevice() ? "char" : "block";
      await this.#io("mknod", target, () => makeNode(target, kind, major, minor));
    } else {
      // Sockets cannot be copied; like upstream, leave an empty regular file in their place.
      await this.#io("create", target, () => writeFile(target, "", { mode: 0o600 }));
    }
    return true;
  }

  /**
   * Owner, permissions and times of a copied entry, in that order (chown clears setuid bits). `madeGid`
   * is the group of an entry this copy just created (its owner is us): chown is skipped when it would
   * change nothing, which saves a third of the calls of a plain copy.
   */
  async #applyInfo(st: Stats, target: string, madeGid?: number): Promise<void> {
    const owner = this.#o.owner ?? { uid: st.uid, gid: st.gid };
    if (madeGid === undefined || owner.uid !== this.#euid || owner.gid !== madeGid) {
      await this.#io("lchown", target, () => lchown(target, owner.uid, owner.gid));
    }
    // copyFile already gave a regular file the source's mode; chown only clears setuid/setgid bits.
    const modeIsSet = st.isFile() && this.#o.mode === undefined && (st.mode & 0o6000) === 0;
    if (!st.isSymbolicLink() && !modeIsSet) {
      const mode = this.#o.mode === undefined ? st.mode & 0o7777 : (st.mode & 0o7000) | (this.#o.mode & 0o777);
      await this.#io("chmod", target, () => chmod(target, mode));
    }
    await this.#applyTimes(st, target);
  }

  async #applyTimes(st: Stats, target: string): Promise<void> {
    const ts = this.#o.timestamp;
    const atime = ts ?? st.atimeMs / 1000;
    const mtime = ts ?? st.mtimeMs / 1000;
    const set = st.isSymbolicLink() ? lutimes : utimes;
    await this.#io("utimes", target, () => set(target, atime, mtime));
  }

  async #lstatTarget(target: string): Promise<Stats | undefined> {
    return this.#io("lstat", target, async () => {
      try {
        return await lstat(target);
      } catch (err) {
        if (isErrno(err, "ENOENT")) return undefined;
        throw err;
      }
    });
  }

  /**
   * Runs a few fs steps in one limiter slot. The slot is taken without the signal: an abort listener per
   * waiter would cost more than the wait, and the signal is checked before every step instead.
   */
  async #slot<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.#o.limiter.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Runs one fs step (inside a slot); stops early once the copy failed or was canceled. */
  async #io<T>(op: string, hostPath: string, fn: () => Promise<T>, isSource = false): Promise<T> {
    try {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#o.signal?.aborted) throw canceledError(this.#o.signal);
      return await fn();
    } catch (err) {
      throw fsError(op, isSource ? displayPath(this.#o.srcRoot, hostPath) : this.#show(hostPath), err);
    }
  }

  /**
   * Copies a directory's children, FANOUT at a time, so the walk never queues the whole tree at once.
   * Waits for every running task (no stray writes after we return) and rethrows the first failure.
   */
  async #forEachChild<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length && this.#failure === undefined) {
        const item = items[next++];
        try {
          await fn(item);
        } catch (err) {
          this.#failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FANOUT, items.length) }, worker));
    if (this.#failure !== undefined) throw this.#failure;
  }

  #show(hostPath: string): string {
    return displayPath(this.#o.destRoot, hostPath);
  }
}
