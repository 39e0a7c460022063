// Tree indexes for DiffCopy receives: the receiver describes each listed entry as it will leave it in its
// destination, so the next receive into a copy of that destination compares the listing with the index
// instead of lstat-ing every entry. The descriptions follow local-tree-index.ts's shape (type letter first,
// a directory's mode right after it) but carry the listing's nanosecond mtime with an `n` suffix, so they
// never equal a description made by the in-process sync (which rounds to milliseconds): an index made by
// one kind of sync only costs the other a full comparison, never a wrong "unchanged".
import type { Stat } from "../gen/fsutil/types/stat_pb.js";
import { chmodBitsFromGo, isDirGoMode, isRegularGoMode, isSymlinkGoMode } from "./fsutil-stat.js";
import { LocalTreeIndex } from "./local-tree-index.js";

/** The owner the receiver gives entries, or undefined when it cannot set owners (not root). */
export type ListedOwner = { uid: number; gid: number } | undefined;

/**
 * What the receiver leaves for `stat`: `f`/`h`/`d`/`l`/`o`, the permission bits (octal), size, mtime in
 * ns, the owner when it is set, and a symlink's or hard link's target last (it may hold any byte but NUL).
 */
export function describeListed(stat: Stat, owner: ListedOwner): string {
  const own = owner ? `:${owner.uid}:${owner.gid}` : "";
  const mode = chmodBitsFromGo(stat.mode).toString(8);
  const mtime = `${stat.modTime}n`;
  if (isDirGoMode(stat.mode)) return `d${mode}:${mtime}${own}`;
  if (isSymlinkGoMode(stat.mode)) return `l:${mtime}${own}:${stat.linkname}`;
  if (isRegularGoMode(stat.mode)) {
    return stat.linkname === "" ? `f${mode}:${stat.size}:${mtime}${own}` : `h${mode}:${mtime}${own}:${stat.linkname}`;
  }
  return `o${mode}`;
}

/** Collects the next index while a listing is applied; entries come each directory before its children. */
export class ListedIndexBuilder {
  readonly #dirs = new Map<string, Map<string, string>>([["", new Map()]]);
  #broken = false;

  /** Records `name` in directory `parent` as `desc`; a directory entry also gets its (empty) listing. */
  add(parent: string, name: string, desc: string, path: string): void {
    const listing = this.#dirs.get(parent);
    if (!listing) {
      // The listing skipped a parent (invalid order would have failed earlier): do not trust the result.
      this.#broken = true;
      return;
    }
    listing.set(name, desc);
    if (desc.startsWith("d")) this.#dirs.set(path, new Map());
  }

  /** The index of what the receive left, or undefined when it could not be followed. */
  build(): LocalTreeIndex | undefined {
    return this.#broken ? undefined : new LocalTreeIndex(this.#dirs);
  }
}
