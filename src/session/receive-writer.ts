// The filesystem half of a DiffCopy receive: makes the destination match the listing, entry by entry,
// keeping what is already identical and deferring what must wait (hard links until their target is
// complete, directory metadata until their children are written, deletions until the listing is known).
import { chmod, chown, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, rm, symlink, utimes, type FileHandle } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { join } from "node:path";
import type { Stat } from "../gen/fsutil/types/stat_pb.js";
import { DigestHasher, type Digest } from "../util/digest.js";
import { chmodBitsFromGo, isDirGoMode, isRegularGoMode, isSymlinkGoMode } from "./fsutil-stat.js";
import { lstatIfExists } from "./lstat-if-exists.js";

export interface WriterOptions {
  /** Keep entries that are not in the listing. */
  merge?: boolean;
  /** Give every entry this owner instead of the listing's. */
  owner?: { uid: number; gid: number };
  /** Called with each written file's sha256; content is hashed only when this is set. */
  onFileWritten?: (path: string, digest: Digest) => void;
}

/** Node sets times as a double of seconds that libuv truncates to microseconds: a written mtime can be ~1.3 µs off. */
const MTIME_SLACK_NS = 2000n;

interface OpenFile {
  stat: Stat;
  fh?: FileHandle;
  hasher?: DigestHasher;
}

/** Applies listing entries under `dest`. One instance per transfer. */
export class ReceiveWriter {
  readonly #dest: string;
  readonly #opts: WriterOptions;
  readonly #asRoot = process.getuid?.() === 0;
  readonly #listed = new Set<string>();
  readonly #dirs: Stat[] = [];
  /** Directories this transfer made: nothing was in them, so their entries are not looked up. */
  readonly #made = new Set<string>();
  readonly #hardlinks: Stat[] = [];
  readonly #open = new Map<string, OpenFile>();
  files = 0;
  bytes = 0;

  constructor(dest: string, opts: WriterOptions) {
    this.#dest = dest;
    this.#opts = opts;
  }

  /** Applies one entry; returns true when its content must be requested. */
  async entry(stat: Stat): Promise<boolean> {
    this.#listed.add(stat.path);
    const abs = join(this.#dest, stat.path);
    const slash = stat.path.lastIndexOf("/");
    const have = this.#made.has(slash < 0 ? "" : stat.path.slice(0, slash)) ? undefined : await lstatIfExists(abs);
    if (isDirGoMode(stat.mode)) {
      if (have && !have.isDirectory()) await rm(abs, { recursive: true, force: true });
      if (!have?.isDirectory()) {
        await mkdir(abs, { mode: 0o700 });
        this.#made.add(stat.path);
      }
      this.#dirs.push(stat);
      return false;
    }
    if (isSymlinkGoMode(stat.mode)) {
      if (!have?.isSymbolicLink() || (await readlink(abs)) !== stat.linkname) {
        if (have) await rm(abs, { recursive: true, force: true });
        await symlink(stat.linkname, abs);
      }
      await this.#owner(abs, stat, true);
      await lutimes(abs, timeOf(stat), timeOf(stat));
      return false;
    }
    if (!isRegularGoMode(stat.mode)) return false; // fifos and devices cannot be made from Node; left out
    if (stat.linkname !== "") {
      if (have) await rm(abs, { recursive: true, force: true });
      this.#hardlinks.push(stat);
      return false;
    }
    if (have && this.#unchanged(have, stat)) return false;
    if (have) await rm(abs, { recursive: true, force: true });
    return true;
  }

  /** Starts receiving a requested file's content. */
  begin(stat: Stat): void {
    this.#open.set(stat.path, { stat, hasher: this.#opts.onFileWritten ? new DigestHasher() : undefined });
  }

  /** Appends a chunk to a file in progress. */
  async write(path: string, chunk: Uint8Array): Promise<void> {
    const f = this.#open.get(path)!;
    f.fh ??= await open(join(this.#dest, path), "wx", 0o600);
    f.hasher?.update(chunk);
    await f.fh.write(chunk);
    this.bytes += chunk.length;
  }

  /** Completes a file: metadata as listed, then the digest callback. */
  async end(path: string): Promise<void> {
    const f = this.#open.get(path)!;
    this.#open.delete(path);
    const fh = f.fh ?? (await open(join(this.#dest, path), "wx", 0o600));
    try {
      await this.#owner(join(this.#dest, path), f.stat, false, fh);
      await fh.chmod(chmodBitsFromGo(f.stat.mode));
      await fh.utimes(timeOf(f.stat), timeOf(f.stat));
    } finally {
      await fh.close();
    }
    this.files++;
    if (f.hasher) this.#opts.onFileWritten?.(path, f.hasher.digest());
  }

  /** After the last file: deletions, hard links, then directory metadata from the deepest up. */
  async finish(): Promise<void> {
    if (!this.#opts.merge) await this.#prune("");
    for (const st of this.#hardlinks) await link(join(this.#dest, st.linkname), join(this.#dest, st.path));
    for (let i = this.#dirs.length - 1; i >= 0; i--) {
      const st = this.#dirs[i];
      const abs = join(this.#dest, st.path);
      await this.#owner(abs, st, false);
      await chmod(abs, chmodBitsFromGo(st.mode)); // after chown, which clears setuid/setgid
      await utimes(abs, timeOf(st), timeOf(st));
    }
  }

  /** Closes files left open by a failed transfer. */
  async abort(): Promise<void> {
    for (const f of this.#open.values()) await f.fh?.close().catch(() => undefined);
    this.#open.clear();
  }

  #unchanged(have: BigIntStats, st: Stat): boolean {
    if (!have.isFile() || have.size !== st.size) return false;
    if ((Number(have.mode) & 0o7777) !== chmodBitsFromGo(st.mode)) return false;
    const dt = have.mtimeNs - st.modTime;
    if (dt > MTIME_SLACK_NS || dt < -MTIME_SLACK_NS) return false;
    if (!this.#asRoot) return true;
    const want = this.#opts.owner ?? st;
    return Number(have.uid) === want.uid && Number(have.gid) === want.gid;
  }

  async #owner(abs: string, st: Stat, isLink: boolean, fh?: FileHandle): Promise<void> {
    // Only root can give files away; an unprivileged receiver keeps its own ownership.
    if (!this.#asRoot) return;
    const { uid, gid } = this.#opts.owner ?? st;
    if (fh) await fh.chown(uid, gid);
    else if (isLink) await lchown(abs, uid, gid);
    else await chown(abs, uid, gid);
  }

  async #prune(dir: string): Promise<void> {
    for (const name of await readdir(join(this.#dest, dir))) {
      const rel = dir ? `${dir}/${name}` : name;
      if (!this.#listed.has(rel)) await rm(join(this.#dest, rel), { recursive: true, force: true });
      else if ((await lstat(join(this.#dest, rel))).isDirectory()) await this.#prune(rel);
    }
  }
}

function timeOf(st: Stat): number {
  return Number(st.modTime) / 1e9;
}

