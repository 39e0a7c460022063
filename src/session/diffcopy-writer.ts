// The filesystem half of a DiffCopy receive: makes the destination match the listing, entry by entry,
// keeping what is already identical and deferring what must wait (hard links until their target is
// complete, directory metadata until their children are written, deletions until the listing is known).
// Nothing identical is touched, not even its metadata, so a destination on an overlay snapshot gets an
// empty upper layer when nothing changed. Calls are synchronous: per entry they are a few cached
// metadata syscalls, for which Node's async round trip costs several times the call; the receiver gives
// the event loop a turn between slices of packets. The exception is creating files, which on a busy disk
// can take far longer than the rest: requested files are opened OPEN_AHEAD at a time on the thread pool
// while their data is still on its way.
import { open as openCb, closeSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync,
  readdirSync, readlinkSync, rmSync, symlinkSync, writeSync, chmodSync, chownSync, utimesSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { Stat } from "../gen/fsutil/types/stat_pb.js";
import { chmodBitsFromGo, isDirGoMode, isRegularGoMode, isSymlinkGoMode } from "./fsutil-stat.js";
import { describeListed, ListedIndexBuilder, type ListedOwner } from "./diffcopy-index.js";
import type { LocalTreeIndex } from "./local-tree-index.js";

export interface WriterOptions {
  /** Keep entries that are not in the listing. */
  merge?: boolean;
  /** Give every entry this owner instead of the listing's. */
  owner?: { uid: number; gid: number };
  /**
   * What `dest` holds before the transfer, from the index an earlier receive returned: compared with instead
   * of lstat-ing dest. The caller must only pass an index that describes exactly dest's content.
   */
  previousIndex?: LocalTreeIndex;
  /**
   * With `previousIndex` (and not merging): `dest` is not there until this resolves, and it is called only
   * when the transfer must write, delete or look at something there. Otherwise the receiver calls it first.
   */
  openDest?: () => Promise<void>;
}

/**
 * Node sets times as a double of seconds that libuv truncates to microseconds: a written mtime can be
 * ~1.3 µs off. Comparing as doubles (number stats are cheaper than bigint ones) adds well under 1 µs.
 */
const MTIME_SLACK_NS = 2500;

interface ListedDir {
  stat: Stat;
  /** Whether it was there before this transfer (false: this transfer made it). */
  existed: boolean;
  /** Whether its metadata was already as listed (decided from the index or from its Stats). */
  same: boolean;
}

interface OpenFile {
  stat: Stat;
  /** Set once the file is created. */
  fd?: number;
  /** The create in flight (or done); undefined while the file waits for an open-ahead slot. */
  opening?: Promise<number>;
}

/** Files created ahead of their data; each holds a descriptor until its content is complete. */
const OPEN_AHEAD = 32;

/** Applies listing entries under `dest`. One instance per transfer; the methods are synchronous. */
export class DiffCopyWriter {
  readonly #dest: string;
  readonly #opts: WriterOptions;
  readonly #asRoot = process.getuid?.() === 0;
  readonly #listed = new Set<string>();
  readonly #dirs: ListedDir[] = [];
  /** Directories this transfer made: nothing was in them, so their entries are not looked up. */
  readonly #made = new Set<string>();
  /** Directories whose entries this transfer added or removed (so their times must be set again). */
  readonly #touched = new Set<string>();
  readonly #hardlinks: Stat[] = [];
  readonly #open = new Map<string, OpenFile>();
  /** Requested files not yet being created, in request order (the order their data comes in). */
  readonly #waiting: OpenFile[] = [];
  #creating = 0;
  /** What dest held before (index mode), or undefined: dest itself is looked at. */
  readonly #prior?: LocalTreeIndex;
  /** The index of what this transfer leaves; undefined when merging (dest then holds more than the listing). */
  readonly #next?: ListedIndexBuilder;
  /** Set while dest is not open yet (index mode with `openDest`): entries equal to the index need no dest. */
  #closed?: () => Promise<void>;
  files = 0;
  bytes = 0;

  constructor(dest: string, opts: WriterOptions) {
    this.#dest = dest;
    this.#opts = opts;
    if (!opts.merge) {
      this.#prior = opts.previousIndex;
      this.#next = new ListedIndexBuilder();
      if (this.#prior && opts.openDest) this.#closed = opts.openDest;
    }
  }

  /** Whether dest is opened only on first need (so the receiver need not open it up front). */
  get opensOnDemand(): boolean {
    return this.#closed !== undefined;
  }

  /** Opens dest (once); afterwards every method runs synchronously again. */
  async #openDest(): Promise<void> {
    const open = this.#closed;
    if (!open) return;
    await open();
    this.#closed = undefined;
  }

  /** The index of what dest holds after `finish()`, when known (not when merging). */
  index(): LocalTreeIndex | undefined {
    return this.#next?.build();
  }

  /**
   * Applies one entry; returns true when its content must be requested. A promise only when dest must be
   * opened first (then nothing of the entry is applied until it is).
   */
  entry(stat: Stat): boolean | Promise<boolean> {
    const creatable = isDirGoMode(stat.mode) || isSymlinkGoMode(stat.mode) || isRegularGoMode(stat.mode);
    // Fifos and devices cannot be made from Node: left out, and whatever dest has there is pruned.
    if (!creatable) return false;
    const parent = parentOf(stat.path);
    const name = stat.path.slice(parent === "" ? 0 : parent.length + 1);
    const desc = describeListed(stat, this.#owner(stat));
    if (this.#closed && this.#needsDest(stat, parent, name, desc)) return this.#openDest().then(() => this.entry(stat));
    this.#listed.add(stat.path);
    const abs = join(this.#dest, stat.path);
    this.#next?.add(parent, name, desc, stat.path);
    if (this.#prior) return this.#indexedEntry(stat, abs, parent, name, desc);
    let have = this.#made.has(parent) ? undefined : lstatSync(abs, { throwIfNoEntry: false });
    if (have && (isDirGoMode(stat.mode) ? !have.isDirectory() : have.isDirectory())) {
      this.#remove(abs, parent);
      have = undefined;
    }
    if (isDirGoMode(stat.mode)) {
      if (!have) {
        mkdirSync(abs, { mode: 0o700 });
        this.#made.add(stat.path);
        this.#touched.add(parent);
      }
      this.#dirs.push({ stat, existed: have !== undefined, same: have !== undefined && this.#sameMeta(have, stat) });
      return false;
    }
    if (isSymlinkGoMode(stat.mode)) {
      this.#symlink(abs, parent, stat, have);
      return false;
    }
    if (stat.linkname !== "") {
      this.#hardlinks.push(stat);
      return false;
    }
    if (have && this.#unchanged(have, stat)) return false;
    if (have) this.#remove(abs, parent);
    this.#touched.add(parent);
    return true;
  }

  /**
   * Whether applying `stat` (index mode) touches dest: anything not described in the index exactly as
   * listed (a directory whose metadata differs is set in `finish`), and every hard link (checked on disk).
   */
  #needsDest(stat: Stat, parent: string, name: string, desc: string): boolean {
    if (stat.linkname !== "" && !isSymlinkGoMode(stat.mode)) return true;
    return this.#prior?.dir(parent)?.get(name) !== desc;
  }

  /** `entry` when an index tells what dest holds: equal descriptions mean equal entries; dest is not read. */
  #indexedEntry(stat: Stat, abs: string, parent: string, name: string, desc: string): boolean {
    let have = this.#made.has(parent) ? undefined : this.#prior?.dir(parent)?.get(name);
    const isDir = isDirGoMode(stat.mode);
    if (have !== undefined && have.startsWith("d") !== isDir) {
      this.#remove(abs, parent);
      have = undefined;
    }
    if (isDir) {
      if (have === undefined) {
        mkdirSync(abs, { mode: 0o700 });
        this.#made.add(stat.path);
        this.#touched.add(parent);
      }
      this.#dirs.push({ stat, existed: have !== undefined, same: have === desc });
      return false;
    }
    if (stat.linkname !== "" && !isSymlinkGoMode(stat.mode)) {
      this.#hardlinks.push(stat);
      return false;
    }
    if (have === desc) return false;
    if (have !== undefined) this.#remove(abs, parent);
    if (isSymlinkGoMode(stat.mode)) {
      this.#symlink(abs, parent, stat, undefined);
      return false;
    }
    this.#touched.add(parent);
    return true;
  }

  /** The owner entries get, for their descriptions; undefined when this process cannot set owners. */
  #owner(stat: Stat): ListedOwner {
    if (!this.#asRoot) return undefined;
    const { uid, gid } = this.#opts.owner ?? stat;
    return { uid, gid };
  }

  /** Starts receiving a requested file's content (its file may be created ahead of the data). */
  begin(stat: Stat): void {
    const f: OpenFile = { stat };
    this.#open.set(stat.path, f);
    this.#waiting.push(f);
    this.#createAhead();
  }

  /** Appends a chunk to a file in progress; a promise only while its file is still being created. */
  write(path: string, chunk: Uint8Array): void | Promise<void> {
    const f = this.#open.get(path)!;
    if (f.fd === undefined) return this.#created(f).then(() => this.write(path, chunk));
    for (let off = 0; off < chunk.length;) off += writeSync(f.fd, chunk, off);
    this.bytes += chunk.length;
  }

  /** Completes a file: metadata as listed. A promise only while its file is still being created. */
  end(path: string): void | Promise<void> {
    const f = this.#open.get(path)!;
    if (f.fd === undefined) return this.#created(f).then(() => this.end(path));
    this.#open.delete(path);
    try {
      if (this.#asRoot) {
        const { uid, gid } = this.#opts.owner ?? f.stat;
        fchownSync(f.fd, uid, gid);
      }
      fchmodSync(f.fd, chmodBitsFromGo(f.stat.mode)); // after chown, which clears setuid/setgid
      futimesSync(f.fd, timeOf(f.stat), timeOf(f.stat));
    } finally {
      closeSync(f.fd);
      this.#creating--;
      this.#createAhead();
    }
    this.files++;
  }

  /**
   * After the last file: deletions, hard links, then directory metadata from the deepest up. A promise
   * only when dest must be opened first, for deletions.
   */
  finish(): void | Promise<void> {
    // Before dest is opened every listed entry matched the index, so only deletions can need it.
    if (this.#closed && this.#pruneList().length > 0) return this.#openDest().then(() => this.finish());
    if (!this.#opts.merge) this.#prune();
    for (const st of this.#hardlinks) this.#hardlink(st);
    for (let i = this.#dirs.length - 1; i >= 0; i--) {
      const { stat, existed, same } = this.#dirs[i];
      if (existed && same && !this.#touched.has(stat.path)) continue;
      const abs = join(this.#dest, stat.path);
      if (this.#asRoot) {
        const { uid, gid } = this.#opts.owner ?? stat;
        chownSync(abs, uid, gid);
      }
      chmodSync(abs, chmodBitsFromGo(stat.mode)); // after chown, which clears setuid/setgid
      utimesSync(abs, timeOf(stat), timeOf(stat));
    }
  }

  /** Closes files left open by a failed transfer (also those whose create is still in flight). */
  abort(): void {
    const closeQuietly = (fd: number): void => {
      try {
        closeSync(fd);
      } catch {
        // already failing; the first error is the one reported
      }
    };
    for (const f of this.#open.values()) {
      if (f.fd !== undefined) closeQuietly(f.fd);
      else f.opening?.then(closeQuietly, () => undefined);
    }
    this.#open.clear();
    this.#waiting.length = 0;
  }

  /** Starts creating waiting files while fewer than OPEN_AHEAD are open. */
  #createAhead(): void {
    while (this.#creating < OPEN_AHEAD && this.#waiting.length > 0) this.#startCreate(this.#waiting.shift()!);
  }

  #startCreate(f: OpenFile): void {
    this.#creating++;
    f.opening = new Promise<number>((resolve, reject) => {
      openCb(join(this.#dest, f.stat.path), "wx", 0o600, (err, fd) => (err ? reject(err) : resolve(fd)));
    });
    f.opening.then((fd) => (f.fd = fd), () => undefined); // a failure surfaces where the file is written
  }

  /** Waits for `f`'s create, starting it now if its data came before its turn (a sender serving files in parallel). */
  async #created(f: OpenFile): Promise<void> {
    if (!f.opening) {
      this.#waiting.splice(this.#waiting.indexOf(f), 1);
      this.#startCreate(f);
    }
    f.fd = await f.opening;
  }

  #symlink(abs: string, parent: string, stat: Stat, have: Stats | undefined): void {
    if (have?.isSymbolicLink() && readlinkSync(abs) === stat.linkname) {
      if (this.#sameOwnerAndTime(have, stat)) return;
    } else {
      if (have) this.#remove(abs, parent);
      symlinkSync(stat.linkname, abs);
      this.#touched.add(parent);
    }
    if (this.#asRoot) {
      const { uid, gid } = this.#opts.owner ?? stat;
      lchownSync(abs, uid, gid);
    }
    lutimesSync(abs, timeOf(stat), timeOf(stat));
  }

  /** Links a later name of a multiply-linked file to its first, unless it already is that inode. */
  #hardlink(st: Stat): void {
    const abs = join(this.#dest, st.path);
    const target = join(this.#dest, st.linkname);
    // bigint: inode numbers (overlayfs xino) can exceed what a double holds exactly
    const have = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (have) {
      const first = lstatSync(target, { bigint: true });
      if (have.ino === first.ino && have.dev === first.dev) return;
      this.#remove(abs, parentOf(st.path));
    }
    linkSync(target, abs);
    this.#touched.add(parentOf(st.path));
  }

  #remove(abs: string, parent: string): void {
    rmSync(abs, { recursive: true, force: true });
    this.#touched.add(parent);
  }

  /** Deletes what the listing does not have, looking only in directories that existed before. */
  #prune(): void {
    for (const [dir, rel] of this.#pruneList()) this.#remove(join(this.#dest, rel), dir);
  }

  /** What `#prune` deletes, as [directory, path] pairs. */
  #pruneList(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const existing = ["", ...this.#dirs.filter((d) => d.existed).map((d) => d.stat.path)];
    for (const dir of existing) {
      const names = this.#prior ? this.#prior.dir(dir)?.keys() ?? [] : readdirSync(join(this.#dest, dir));
      for (const name of names) {
        const rel = dir ? `${dir}/${name}` : name;
        if (!this.#listed.has(rel)) out.push([dir, rel]);
      }
    }
    return out;
  }

  #unchanged(have: Stats, st: Stat): boolean {
    if (!have.isFile() || have.size !== Number(st.size)) return false;
    return this.#sameMeta(have, st);
  }

  #sameMeta(have: Stats, st: Stat): boolean {
    if ((Number(have.mode) & 0o7777) !== chmodBitsFromGo(st.mode)) return false;
    return this.#sameOwnerAndTime(have, st);
  }

  #sameOwnerAndTime(have: Stats, st: Stat): boolean {
    const dt = have.mtimeMs * 1e6 - Number(st.modTime);
    if (dt > MTIME_SLACK_NS || dt < -MTIME_SLACK_NS) return false;
    // Only root can give files away; an unprivileged receiver keeps its own ownership.
    if (!this.#asRoot) return true;
    const want = this.#opts.owner ?? st;
    return Number(have.uid) === want.uid && Number(have.gid) === want.gid;
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function timeOf(st: Stat): number {
  return Number(st.modTime) / 1e9;
}
