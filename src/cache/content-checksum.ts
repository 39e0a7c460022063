// Content checksums of paths inside a filesystem tree: the content-based half of cache keys. A checksum
// covers names, types, permission bits, owners, symlink targets and file bytes, never times, so a rebuild
// whose inputs only got touched still hits the cache.
import { createHash } from "node:crypto";
import { createReadStream, lstatSync, readFileSync } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Stats } from "node:fs";
import { GantryError, errnoOf } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";
import { matchGlob } from "../util/pattern-matcher.js";

export interface ChecksumOptions {
  /** Follow a symlink named by `path` itself (COPY of a symlink copies its target). */
  followSymlinks?: boolean;
  /** `path` may hold `*`, `?` and `[…]` in its last components. */
  wildcard?: boolean;
  signal?: AbortSignal;
}

const fileLimiter = new Limiter(16);

/** A file checksum remembered with the stat signature (inode, size, times, mode, owner) it was valid for. */
export interface FileSum {
  path: string;
  sig: string;
  digest: string;
}

/**
 * Remembered checksums of one tree (a read-only view of an immutable ref): whole answers by query, and
 * optionally per-file checksums shared with other trees of the same scope, reused when the stat matches.
 */
export interface ChecksumMemo {
  get(query: string): string | undefined;
  set(query: string, digest: string): void;
  files?: {
    get(path: string): { sig: string; digest: string } | undefined;
    setMany(rows: readonly FileSum[]): void;
  };
}

// Trees with a memo, by root directory. The ref manager registers each read-only view it mounts, so
// checksums of an unchanged ref are computed once, across builds and restarts.
const memos = new Map<string, ChecksumMemo>();

/** Makes `contentChecksum` on `root` use `memo` until the returned function is called. */
export function registerChecksumMemo(root: string, memo: ChecksumMemo): () => void {
  memos.set(root, memo);
  return () => {
    if (memos.get(root) === memo) memos.delete(root);
  };
}

interface Walk {
  root: string;
  files?: ChecksumMemo["files"];
  fresh: FileSum[];
}

/** The key a memo stores the checksum of `path` under with these options (see `ChecksumMemo.get`). */
export function checksumQuery(path: string, opts: Pick<ChecksumOptions, "followSymlinks" | "wildcard"> = {}): string {
  return JSON.stringify([posix.normalize(`/${path}`), opts.followSymlinks === true, opts.wildcard === true]);
}

/** Checksum of `path` (absolute inside the tree rooted at `root`). NotFound names the missing path. */
export async function contentChecksum(root: string, path: string, opts: ChecksumOptions = {}): Promise<string> {
  const clean = posix.normalize(`/${path}`);
  const memo = memos.get(root);
  const query = checksumQuery(clean, opts);
  const known = memo?.get(query);
  if (known !== undefined) return known;
  const w: Walk = { root, files: memo?.files, fresh: [] };
  const digest = await computeChecksum(w, clean, opts);
  if (memo) {
    memo.files?.setMany(w.fresh);
    memo.set(query, digest);
  }
  return digest;
}

async function computeChecksum(w: Walk, clean: string, opts: ChecksumOptions): Promise<string> {
  const root = w.root;
  if (opts.wildcard && /[*?[]/.test(clean)) {
    const matches = await expandWildcard(root, clean);
    if (matches.length === 0) return sha256hex("");
    if (matches.length === 1) return checksumPath(w, matches[0], opts.followSymlinks ?? false);
    const parts = await Promise.all(matches.map(async (m) => `${posix.basename(m)}${await checksumPath(w, m, opts.followSymlinks ?? false)}`));
    return sha256hex(parts.join("\0"));
  }
  return checksumPath(w, clean, opts.followSymlinks ?? false);
}

async function checksumPath(w: Walk, path: string, follow: boolean): Promise<string> {
  const root = w.root;
  const host = join(root, path);
  let st: Stats;
  try {
    st = follow ? await statInside(root, path) : await lstat(host);
  } catch (err) {
    if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") {
      throw new GantryError("NotFound", `"${path}": not found`, { cause: err });
    }
    throw err;
  }
  if (follow && st.isFile()) {
    const host = await resolveInside(root, path);
    return fileDigest(w, host, host.slice(root.length) || "/", st);
  }
  return entryDigest(w, path, st);
}

async function entryDigest(w: Walk, path: string, st: Stats): Promise<string> {
  const root = w.root;
  const host = join(root, path);
  if (st.isDirectory()) {
    const names = (await readdir(host)).sort();
    const stats = await lstatAll(host, names);
    const h = createHash("sha256").update(header("dir", st));
    // Entries whose digest is at hand (remembered files) get no promise: a rebuild of a big unchanged tree
    // is mostly these.
    const digests: string[] = new Array<string>(names.length);
    const pending: Promise<void>[] = [];
    names.forEach((n, i) => {
      const childPath = posix.join(path, n);
      const known = knownFileDigest(w, childPath, stats[i]);
      if (known !== undefined) digests[i] = known;
      else pending.push(entryDigest(w, childPath, stats[i]).then((d) => void (digests[i] = d)));
    });
    await Promise.all(pending);
    names.forEach((n, i) => h.update(`${n}\0${digests[i]}\0`));
    return h.digest("hex");
  }
  if (st.isSymbolicLink()) return sha256hex(header("symlink", st) + (await readlink(host)));
  if (st.isFile()) return fileDigest(w, host, path, st);
  return sha256hex(header("special", st) + `${st.rdev}`);
}

/** Synchronous work (in lstat units) since the walks last let the event loop turn. */
let syncWork = 0;

/** Counts `cost` units of synchronous work; true every 256 units, when the caller should yield. */
function spend(cost: number): boolean {
  syncWork += cost;
  if (syncWork < 256) return false;
  syncWork = 0;
  return true;
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * lstat of each name in `dir`. Synchronous calls in slices: a promise per entry costs several times the
 * system call itself on a tree of tens of thousands of files; yielding between slices keeps the loop free.
 */
async function lstatAll(dir: string, names: readonly string[]): Promise<Stats[]> {
  const out: Stats[] = [];
  for (const n of names) {
    if (spend(1)) await nextTurn();
    out.push(lstatSync(join(dir, n)));
  }
  return out;
}

// Same inode, size, times, mode and owner as when it was hashed: the same bytes (what fsutil assumes too).
function signature(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}:${st.uid}:${st.gid}`;
}

/** The remembered digest of regular file `path` when its stat still matches, else undefined. */
function knownFileDigest(w: Walk, path: string, st: Stats): string | undefined {
  if (!st.isFile()) return undefined;
  const known = w.files?.get(path);
  return known && known.sig === signature(st) ? known.digest : undefined;
}

async function fileDigest(w: Walk, host: string, path: string, st: Stats): Promise<string> {
  const known = knownFileDigest(w, path, st);
  if (known !== undefined) return known;
  const digest = st.size <= SMALL_FILE ? await smallFileDigest(host, st) : await fileLimiter.run(async () => {
    const h = createHash("sha256").update(header("file", st));
    for await (const chunk of createReadStream(host)) h.update(chunk as Buffer);
    return h.digest("hex");
  });
  if (w.files) w.fresh.push({ path, sig: signature(st), digest });
  return digest;
}

/** Files up to this size are read in one synchronous call: a stream costs four pool round trips. */
const SMALL_FILE = 64 * 1024;

async function smallFileDigest(host: string, st: Stats): Promise<string> {
  if (spend(4)) await nextTurn();
  return createHash("sha256").update(header("file", st)).update(readFileSync(host)).digest("hex");
}

function header(kind: string, st: Stats): string {
  return `${kind}\0${(st.mode & 0o7777).toString(8)}\0${st.uid}:${st.gid}\0${kind === "file" ? st.size : 0}\0`;
}

function sha256hex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/** Resolves symlinks in `path` as if `root` were `/`, so a link cannot lead outside the tree. */
async function resolveInside(root: string, path: string, depth = 0): Promise<string> {
  if (depth > 255) throw new GantryError("InvalidArgument", `Too many levels of symbolic links at "${path}".`);
  const parts = path.split("/").filter(Boolean);
  let cur = "/";
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(cur, parts[i]);
    const st = await lstat(join(root, next));
    if (st.isSymbolicLink()) {
      const target = await readlink(join(root, next));
      const rest = parts.slice(i + 1).join("/");
      const joined = target.startsWith("/") ? posix.join(target, rest) : posix.join(cur, target, rest);
      return resolveInside(root, posix.normalize(`/${joined}`), depth + 1);
    }
    cur = next;
  }
  return join(root, cur);
}

async function statInside(root: string, path: string): Promise<Stats> {
  return stat(await resolveInside(root, path));
}

/** Expands glob characters component by component, in sorted order. */
async function expandWildcard(root: string, pattern: string): Promise<string[]> {
  let paths = ["/"];
  for (const part of pattern.split("/").filter(Boolean)) {
    const next: string[] = [];
    for (const p of paths) {
      if (!/[*?[]/.test(part)) {
        next.push(posix.join(p, part));
        continue;
      }
      let names: string[] = [];
      try {
        names = (await readdir(join(root, p))).sort();
      } catch (err) {
        if (errnoOf(err) !== "ENOENT" && errnoOf(err) !== "ENOTDIR") throw err;
      }
      for (const n of names) if (matchGlob(part, n)) next.push(posix.join(p, n));
    }
    paths = next;
  }
  const exists = await Promise.all(paths.map((p) => lstat(join(root, p)).then(() => true, () => false)));
  return paths.filter((_, i) => exists[i]);
}
