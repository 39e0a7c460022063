// What a local sync left in its destination: per directory, each entry's name and a description of it
// (type, mode & 0o7777, size, modification time rounded to the millisecond, symlink target; owners are 0:0
// by construction). The next sync into a snapshot on top of that copy compares the client's tree with this
// instead of looking at the copy, so only the client side is stat-ed (as Docker's daemon keeps metadata).
//
// Trust: an index names the one owner (a committed snapshot's ref id) it describes and carries a digest of
// its body; a missing, torn, corrupt or foreign file reads as "no index", and the caller then compares with
// the copy itself. The file is written under a temporary name and renamed, so readers see all or nothing.
import { createHash, randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Stats } from "node:fs";
import { GantryError, throwIfAborted } from "../util/errors.js";

const MAGIC = "gantry-local-tree-index/1";

/**
 * Directory path ("" for the root, `a/b` below) → entry name → description (see `describeEntry`). Every
 * directory entry has its own listing in the map.
 */
export type TreeListing = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** An immutable description of a synced tree (see the file comment). */
export class LocalTreeIndex {
  readonly #dirs: TreeListing;

  constructor(dirs: TreeListing) {
    this.#dirs = dirs;
  }

  /** The listing of directory `rel` (name → description), or undefined when the tree has no such directory. */
  dir(rel: string): ReadonlyMap<string, string> | undefined {
    return this.#dirs.get(rel);
  }

  /** Number of entries (files, symlinks, directories; the root not counted). */
  get size(): number {
    let n = 0;
    for (const m of this.#dirs.values()) n += m.size;
    return n;
  }

  /** Directories in the index, each with its listing. */
  dirs(): IterableIterator<[string, ReadonlyMap<string, string>]> {
    return this.#dirs.entries();
  }
}

/**
 * The description of one entry, as a copy would have it: `f<mode>:<size>:<mtime>` for a regular file,
 * `l:<size>:<mtime>:<target>` for a symlink (its mode is not kept), `d<mode>:<mtime>` for a directory and
 * `o…` for anything else. With `checkOwner`, an entry not owned by 0:0 gets a `!` after its type letter,
 * so it never equals the description of a source entry.
 */
export function describeEntry(st: Stats, target?: string, checkOwner = false): string {
  const own = checkOwner && (st.uid !== 0 || st.gid !== 0) ? "!" : "";
  const mtime = Math.round(st.mtimeMs);
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isFile()) return `f${own}${mode}:${st.size}:${mtime}`;
  if (st.isDirectory()) return `d${own}${mode}:${mtime}`;
  if (st.isSymbolicLink()) return `l${own}:${st.size}:${mtime}:${target ?? ""}`;
  return `o${own}${mode}`;
}

/** The permission bits of a directory description made by `describeEntry`. */
export function modeOfDescription(desc: string): number {
  return Number.parseInt(desc.slice(1), 8);
}

/**
 * The file form: a header line `MAGIC owner entries sha256(body)`, then the body: for each directory a
 * field `/<path>` followed by name and description fields, all separated by NUL (which no name, path or
 * symlink target can hold; a name never starts with "/").
 */
export function serializeLocalTreeIndex(index: LocalTreeIndex, owner: string): string {
  checkOwner(owner);
  const fields: string[] = [];
  for (const [rel, listing] of index.dirs()) {
    fields.push(`/${rel}`);
    for (const [name, desc] of listing) fields.push(name, desc);
  }
  const body = fields.join("\0");
  return `${MAGIC} ${owner} ${index.size} ${hashOf(body)}\n${body}`;
}

/** The index in `text` when it is whole and belongs to `owner`; undefined otherwise (never throws). */
export function parseLocalTreeIndex(text: string, owner: string): LocalTreeIndex | undefined {
  const nl = text.indexOf("\n");
  if (nl < 0) return undefined;
  const [magic, who, count, digest, extra] = text.slice(0, nl).split(" ");
  if (magic !== MAGIC || who !== owner || extra !== undefined || !/^[0-9]+$/.test(count ?? "")) return undefined;
  const body = text.slice(nl + 1);
  if (hashOf(body) !== digest) return undefined;
  const dirs = parseBody(body);
  if (!dirs) return undefined;
  const index = new LocalTreeIndex(dirs);
  return index.size === Number(count) ? index : undefined;
}

function parseBody(body: string): Map<string, Map<string, string>> | undefined {
  const dirs = new Map<string, Map<string, string>>();
  if (body === "") return dirs;
  const f = body.split("\0");
  let cur: Map<string, string> | undefined;
  for (let i = 0; i < f.length; ) {
    const field = f[i];
    if (field.startsWith("/")) {
      const rel = field.slice(1);
      if (dirs.has(rel)) return undefined;
      cur = new Map();
      dirs.set(rel, cur);
      i++;
      continue;
    }
    const desc = f[i + 1];
    if (cur === undefined || desc === undefined || field === "" || desc === "" || cur.has(field)) return undefined;
    cur.set(field, desc);
    i += 2;
  }
  // Each directory entry must come with its listing, or lookups below it would have nothing to go on.
  for (const [rel, listing] of dirs) {
    for (const [name, desc] of listing) {
      if (desc.startsWith("d") && !dirs.has(rel ? `${rel}/${name}` : name)) return undefined;
    }
  }
  return dirs;
}

/**
 * Writes the index of `owner`'s tree to `file`: under a temporary name, then renamed, so a reader sees the
 * old file, the new one or none. No fsync: a file a power cut tears fails its digest and is ignored.
 */
export async function writeLocalTreeIndex(file: string, index: LocalTreeIndex, owner: string): Promise<void> {
  const text = serializeLocalTreeIndex(index, owner);
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, text, { flag: "wx", mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The index in `file` when it is whole and belongs to `owner`; undefined when missing, unreadable or not trusted. */
export async function readLocalTreeIndex(file: string, owner: string, opts: { signal?: AbortSignal } = {}): Promise<LocalTreeIndex | undefined> {
  let text: string;
  try {
    text = await readFile(file, { encoding: "utf8", signal: opts.signal });
  } catch {
    // Unreadable is as good as missing: the sync then compares with the copy itself.
    throwIfAborted(opts.signal);
    return undefined;
  }
  return parseLocalTreeIndex(text, owner);
}

function hashOf(body: string): string {
  return createHash("sha256").update(body).digest("hex");
}

function checkOwner(owner: string): void {
  if (owner === "" || /\s/.test(owner)) throw new GantryError("InvalidArgument", `A tree index owner must be a non-empty word, not "${owner}".`);
}
