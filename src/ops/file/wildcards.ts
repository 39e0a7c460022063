// COPY/rm wildcard sources (fsutil's ResolveWildcards): the path is split at the first component with
// `*`, `?` or `[`; the fixed head is resolved inside the root and the tail is matched with Go's
// filepath.Match against paths below it. A matching directory is not descended into.
import type { Dirent } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { matchGlob } from "../../util/pattern-matcher.js";
import { fsError, isErrno } from "./fs-error.js";
import { goClean } from "./go-path.js";
import { displayPath, resolveInRoot } from "./root-path.js";

/** True when a path component holds an unescaped wildcard character. */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === "\\") i++;
    else if (ch === "*" || ch === "?" || ch === "[") return true;
  }
  return false;
}

/** Splits a path into the components before the first wildcard and the rest. */
export function splitWildcards(p: string): { head: string; tail: string } {
  const head: string[] = [];
  const tail: string[] = [];
  for (const part of goClean(p).split("/")) {
    if (tail.length > 0 || containsWildcards(part)) tail.push(part);
    else head.push(part === "" ? "/" : part);
  }
  const joined = head.length === 0 ? "" : goClean(head.join("/"));
  return { head: joined, tail: tail.join("/") };
}

/**
 * The root-relative paths (`/a/b`) a source names, in lexical walk order. Without wildcards this is the
 * cleaned path itself (which may not exist). The head is resolved through symlinks (its last component
 * only when `followLinks`); a missing head is NotFound (`lstat /dir: no such file or directory`).
 */
export async function resolveWildcards(root: string, src: string, followLinks: boolean): Promise<string[]> {
  const { head, tail } = splitWildcards(src);
  if (tail === "") return [goClean("/" + head)];
  const base = await resolveInRoot(root, head, { followFinal: followLinks });
  const out: string[] = [];
  const depth = tail.split("/").length;
  try {
    if (!(await lstat(base)).isDirectory()) return [];
  } catch (err) {
    throw fsError("lstat", displayPath(root, base), err);
  }
  await walk(base, "", depth, tail, out);
  return out.map((rel) => displayPath(root, join(base, rel)));
}

// `*`, `?` and classes never match `/`, so paths deeper than the pattern cannot match: stop there.
async function walk(dir: string, rel: string, depthLeft: number, pattern: string, out: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(dir, rel), { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return;
    throw err;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = rel === "" ? e.name : `${rel}/${e.name}`;
    if (globMatches(pattern, p)) {
      out.push(p);
      continue;
    }
    if (e.isDirectory() && depthLeft > 1) await walk(dir, p, depthLeft - 1, pattern, out);
  }
}

function globMatches(pattern: string, p: string): boolean {
  try {
    return matchGlob(pattern, p);
  } catch {
    // Upstream ignores the pattern error here: a malformed pattern simply matches nothing.
    return false;
  }
}
