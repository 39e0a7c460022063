// Content checksums of paths inside a filesystem tree: the content-based half of cache keys. A checksum
// covers names, types, permission bits, owners, symlink targets and file bytes, never times, so a rebuild
// whose inputs only got touched still hits the cache.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Stats } from "node:fs";
import { GantryError, errnoOf } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";

export interface ChecksumOptions {
  /** Follow a symlink named by `path` itself (COPY of a symlink copies its target). */
  followSymlinks?: boolean;
  /** `path` may hold `*`, `?` and `[…]` in its last components. */
  wildcard?: boolean;
  signal?: AbortSignal;
}

const fileLimiter = new Limiter(16);

/** Checksum of `path` (absolute inside the tree rooted at `root`). NotFound names the missing path. */
export async function contentChecksum(root: string, path: string, opts: ChecksumOptions = {}): Promise<string> {
  const clean = posix.normalize(`/${path}`);
  if (opts.wildcard && /[*?[]/.test(clean)) {
    const matches = await expandWildcard(root, clean);
    if (matches.length === 0) return sha256hex("");
    if (matches.length === 1) return checksumPath(root, matches[0], opts.followSymlinks ?? false);
    const parts = await Promise.all(matches.map(async (m) => `${posix.basename(m)}${await checksumPath(root, m, opts.followSymlinks ?? false)}`));
    return sha256hex(parts.join("\0"));
  }
  return checksumPath(root, clean, opts.followSymlinks ?? false);
}

async function checksumPath(root: string, path: string, follow: boolean): Promise<string> {
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
  return follow && st.isFile() ? fileDigest(await resolveInside(root, path), st) : entryDigest(root, path, st);
}

async function entryDigest(root: string, path: string, st: Stats): Promise<string> {
  const host = join(root, path);
  if (st.isDirectory()) {
    const names = (await readdir(host)).sort();
    const h = createHash("sha256").update(header("dir", st));
    const children = await Promise.all(names.map(async (n) => {
      const childPath = posix.join(path, n);
      return [n, await entryDigest(root, childPath, await lstat(join(root, childPath)))] as const;
    }));
    for (const [n, d] of children) h.update(`${n}\0${d}\0`);
    return h.digest("hex");
  }
  if (st.isSymbolicLink()) return sha256hex(header("symlink", st) + (await readlink(host)));
  if (st.isFile()) return fileDigest(host, st);
  return sha256hex(header("special", st) + `${st.rdev}`);
}

async function fileDigest(host: string, st: Stats): Promise<string> {
  return fileLimiter.run(async () => {
    const h = createHash("sha256").update(header("file", st));
    for await (const chunk of createReadStream(host)) h.update(chunk as Buffer);
    return h.digest("hex");
  });
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
      const re = globToRegExp(part);
      let names: string[] = [];
      try {
        names = (await readdir(join(root, p))).sort();
      } catch (err) {
        if (errnoOf(err) !== "ENOENT" && errnoOf(err) !== "ENOTDIR") throw err;
      }
      for (const n of names) if (re.test(n)) next.push(posix.join(p, n));
    }
    paths = next;
  }
  const exists = await Promise.all(paths.map((p) => lstat(join(root, p)).then(() => true, () => false)));
  return paths.filter((_, i) => exists[i]);
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < glob.length) re += `\\${glob[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
