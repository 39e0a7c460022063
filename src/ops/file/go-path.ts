// Go's `path` functions on slash paths, so that action paths are normalised exactly as upstream does
// (`Clean` drops trailing slashes, `Base`/`Dir`/`Split` have Go's edge cases).
import { posix } from "node:path";

/** Go's `path.Clean`: `.`/`..`/double slashes resolved lexically, no trailing slash, `""` → `.`. */
export function goClean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** Go's `path.Split`: everything up to and including the last slash, and the rest. */
export function goSplit(p: string): { dir: string; file: string } {
  const i = p.lastIndexOf("/");
  return { dir: p.slice(0, i + 1), file: p.slice(i + 1) };
}

/** Go's `path.Dir`: the cleaned directory part (`.` when there is none). */
export function goDir(p: string): string {
  return goClean(goSplit(p).dir);
}

/** Go's `path.Base`: the last element after trailing slashes are dropped; `/` for all-slashes, `.` for "". */
export function goBase(p: string): string {
  if (p === "") return ".";
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * Upstream's action-path cleaning: absolute and clean, but a trailing `/` or `/.` is kept because it
 * changes COPY's meaning ("into the directory", "the directory's contents").
 */
export function cleanActionPath(p: string): string {
  let out = goClean("/" + p);
  if (p.endsWith("/.")) {
    if (out !== "/") out += "/";
    out += ".";
  } else if (p.endsWith("/") && out !== "/") {
    out += "/";
  }
  return out;
}
