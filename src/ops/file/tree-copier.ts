// Copies one source entry (a file, a symlink or a whole tree) onto a target path with `cp -a`-like
// semantics, following fsutil's copier: symlinks inside the tree are copied as links, hard links within
// one copy stay hard links, include/exclude patterns filter by path below the source, and directories that
// only hold included entries are created lazily. Entries are copied in parallel, bounded by a Limiter.
import { constants } from "node:fs";
import type { Stats } from "node:fs";
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, unlink, utimes,
  writeFile } from "node:fs/promises";
import { join } from "node:path";
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
  parent?: DirNode;
  /** Creates this directory (and its parents) if a descendant is copied; memoised. */
  ensure(): Promise<void>;
  created: boolean;
}

interface Filter {
  include: boolean;
  excluded: boolean;
  includeInfo?: MatchInfo;
  excludeInfo?: MatchInfo;
}

const NO_FILTER: Filter = { include: true, excluded: false };

/** Copies source trees to targets; see the file comment for the semantics. */
export class TreeCopier {
  readonly #o: TreeCopierOptions;
  readonly #inodes = new Map<string, Promise<string>>();
  #failure: unknown;

  constructor(opts: TreeCopierOptions) {
    this.#o = opts;
  }

  /**
   * Copies the entry at host path `src` to host path `target` (whose parent exists). An existing
   * directory target is merged into; its own metadata is kept except its times.
   */
  async copy(src: string, target: string): Promise<void> {
    await this.#copyEntry(src, "", target, false, NO_FILTER, undefined);
  }

  async #copyEntry(src: string, rel: string, target: string, overwrite: boolean, parentFilter: Filter,
    parent: DirNode | undefined): Promise<void> {
    const filter = rel === "" ? NO_FILTER : this.#filter(rel, parentFilter);
    // An excluded path with nothing that could re-include its children is not even looked at.
    if (!filter.include && this.#o.include === undefined && !(this.#o.exclude?.hasExclusions ?? false)) return;
    const st = await this.#io("lstat", src, () => lstat(src), true);
    if (!filter.include && !st.isDirectory()) return;
    // Inside a directory this copy just created, nothing can be in the way.
    let targetSt = parent?.created ? undefined : await this.#lstatTarget(target);
    if (filter.include) {
      if (targetSt !== undefined && this.#o.alwaysReplaceExistingDestPaths && !(st.isDirectory() && targetSt.isDirectory())) {
        await this.#io("remove", target, () => rm(target, { recursive: true, force: true }));
        targetSt = undefined;
      }
      await parent?.ensure();
    }
    if (!st.isDirectory()) {
      if (targetSt !== undefined) {
        if (targetSt.isDirectory()) {
          throw new GantryError("FailedPrecondition",
            `Cannot copy ${JSON.stringify("/" + rel)}: cannot replace to directory ${this.#show(target)} with file.`);
        }
        await this.#io("unlink", target, () => unlink(target));
      }
      await this.#copyNonDir(src, target, st);
      await this.#applyInfo(st, target);
      return;
    }
    const node = await this.#copyDir(src, rel, target, st, overwrite, filter, parent, targetSt);
    if (overwrite ? filter.include || node.created : node.created) await this.#applyInfo(st, target);
    else if (!overwrite && targetSt !== undefined) await this.#applyTimes(st, target);
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

  async #copyDir(src: string, rel: string, target: string, st: Stats, overwrite: boolean, filter: Filter,
    parent: DirNode | undefined, targetSt: Stats | undefined): Promise<DirNode> {
    const node: DirNode = { parent, created: false, ensure: () => Promise.resolve() };
    if (filter.include) {
      node.created = await this.#makeDir(target, st, overwrite, targetSt);
    } else {
      // Not copied for itself: made only when an included descendant needs it.
      let pending: Promise<void> | undefined;
      node.ensure = () => (pending ??= (async () => {
        await parent?.ensure();
        node.created = await this.#makeDir(target, st, overwrite, await this.#lstatTarget(target));
      })());
    }
    if (filter.excluded && !(this.#o.exclude?.hasExclusions ?? false)) return node;
    const names = await this.#io("readdir", src, () => readdir(src), true);
    await this.#settleAll(names.map((name) =>
      this.#copyEntry(join(src, name), rel === "" ? name : `${rel}/${name}`, join(target, name), true, filter, node)));
    return node;
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

  async #copyNonDir(src: string, target: string, st: Stats): Promise<void> {
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.#inodes.get(key);
        if (first !== undefined) {
          const firstTarget = await first;
          await this.#io("link", target, () => link(firstTarget, target));
          return;
        }
        const copied = this.#io("copy", target, () => copyFile(src, target, constants.COPYFILE_FICLONE)).then(() => target);
        this.#inodes.set(key, copied);
        await copied;
        return;
      }
      await this.#io("copy", target, () => copyFile(src, target, constants.COPYFILE_FICLONE));
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
  }

  /** Owner, permissions and times of a copied entry, in that order (chown clears setuid bits). */
  async #applyInfo(st: Stats, target: string): Promise<void> {
    const owner = this.#o.owner ?? { uid: st.uid, gid: st.gid };
    await this.#io("lchown", target, () => lchown(target, owner.uid, owner.gid));
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

  /** Runs one fs step under the limiter; stops early once the copy failed or was canceled. */
  async #io<T>(op: string, hostPath: string, fn: () => Promise<T>, isSource = false): Promise<T> {
    const release = await this.#o.limiter.acquire(this.#o.signal);
    try {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#o.signal?.aborted) throw canceledError(this.#o.signal);
      return await fn();
    } catch (err) {
      throw fsError(op, isSource ? displayPath(this.#o.srcRoot, hostPath) : this.#show(hostPath), err);
    } finally {
      release();
    }
  }

  /** Waits for every task (no stray writes after we return) and rethrows the first failure. */
  async #settleAll(tasks: Array<Promise<void>>): Promise<void> {
    const results = await Promise.allSettled(tasks.map((t) => t.catch((err: unknown) => {
      this.#failure ??= err;
      throw err;
    })));
    for (const r of results) if (r.status === "rejected") throw this.#failure ?? r.reason;
  }

  #show(hostPath: string): string {
    return displayPath(this.#o.destRoot, hostPath);
  }
}
