// fsutil's FollowPaths: a path that must be sent even through symlinks. Each symlink met on the way
// (in any component, base names may be globs) is sent along with its target, resolved inside the root.
import { lstat, readdir, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { errnoOf } from "../util/errors.js";
import { matchGlob } from "../util/pattern-matcher.js";

const MAX_HOPS = 255;

/**
 * The include patterns that make `paths` (and symlinks on the way to them) part of the transfer, sorted
 * and with paths below an earlier one dropped; undefined when one of them is the root itself (no narrowing).
 */
export async function resolveFollowPaths(root: string, paths: readonly string[]): Promise<string[] | undefined> {
  const resolved = new Set<string>();
  for (const p of paths) await follow(root, p, resolved, 0);
  const sorted = [...resolved].sort();
  const out: string[] = [];
  let last: string | undefined;
  for (const s of sorted) {
    if (s === ".") return undefined;
    if (last !== undefined && s.startsWith(`${last}/`)) continue;
    out.push(s);
    last = s;
  }
  return out;
}

async function follow(root: string, path: string, resolved: Set<string>, hops: number): Promise<void> {
  if (hops > MAX_HOPS) return; // a symlink loop; what was resolved so far is sent
  let rest = posix.normalize(`./${path}`).replace(/^\/+/, "").replace(/^(\.\.\/)+/, "");
  if (rest === "" || rest === ".." || rest === "./") rest = ".";
  let current = ".";
  for (;;) {
    const slash = rest.indexOf("/");
    const part = slash < 0 ? rest : rest.slice(0, slash);
    rest = slash < 0 ? "" : rest.slice(slash + 1);
    current = current === "." ? part : `${current}/${part}`;
    const targets = await symlinkTargets(root, current);
    if ((rest === "" || targets) && resolved.has(current)) return;
    if (targets) {
      resolved.add(current);
      for (const t of targets) await follow(root, rest ? `${t}/${rest}` : t, resolved, hops + 1);
      return;
    }
    if (rest === "") {
      resolved.add(current);
      return;
    }
  }
}

/** Targets (relative to the root) of the symlink at `rel`, or of each symlink a glob base name matches. */
async function symlinkTargets(root: string, rel: string): Promise<string[] | undefined> {
  if (rel === ".") return undefined;
  const base = posix.basename(rel);
  if (/[*?[]/.test(base)) {
    const dir = posix.dirname(rel);
    const names = await readdir(join(root, dir)).catch(() => [] as string[]);
    const out: string[] = [];
    for (const n of names) {
      if (!globMatches(base, n)) continue;
      out.push(...((await symlinkTargets(root, dir === "." ? n : `${dir}/${n}`)) ?? []));
    }
    return out.length ? out : undefined;
  }
  let target: string;
  try {
    if (!(await lstat(join(root, rel))).isSymbolicLink()) return undefined;
    target = await readlink(join(root, rel));
  } catch (err) {
    if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") return undefined; // not there: nothing to follow
    throw err;
  }
  // Absolute targets are taken relative to the root, as the build sees the context.
  const joined = posix.isAbsolute(target) ? target : posix.join("/", posix.dirname(rel), target);
  const clean = posix.normalize(joined).replace(/^\/+/, "");
  return [clean === "" ? "." : clean];
}

/** A malformed glob matches nothing, as Go's filepath.Match error is ignored upstream. */
function globMatches(pattern: string, name: string): boolean {
  try {
    return matchGlob(pattern, name);
  } catch {
    return false;
  }
}
