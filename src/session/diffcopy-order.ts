// The receiver's check of a DiffCopy listing: clean relative paths, each directory's entries in byte
// order, every entry's parent listed before it. A listing that breaks these could write outside the
// destination or leave stale entries, so it is rejected.
import { GantryError } from "../util/errors.js";
import { compareBytes } from "./diffcopy-walk.js";

/** Validates listing entries one at a time, in the order received. */
export class ListingOrder {
  /** Open directories from the root down, each with the last name seen in it. */
  readonly #stack: Array<{ dir: string; last: string | undefined }> = [{ dir: "", last: undefined }];

  /** Throws InvalidArgument when `path` is unclean, escapes, or comes out of order. */
  check(path: string, isDir: boolean): void {
    if (path === ".." || path.startsWith("../")) {
      throw new GantryError("InvalidArgument", `The file listing has a path outside the destination: "${path}".`);
    }
    if (!isClean(path)) throw new GantryError("InvalidArgument", `The file listing has an invalid path "${path}".`);
    const slash = path.lastIndexOf("/");
    const dir = slash < 0 ? "" : path.slice(0, slash);
    const base = path.slice(slash + 1);
    while (this.#stack.length > 1 && this.#stack[this.#stack.length - 1].dir !== dir) this.#stack.pop();
    const top = this.#stack[this.#stack.length - 1];
    if (top.dir !== dir) {
      throw new GantryError("InvalidArgument", `The file listing sent "${path}" before its parent directory.`);
    }
    if (top.last !== undefined && compareBytes(top.last, base) >= 0) {
      throw new GantryError("InvalidArgument", `The file listing is out of order: "${path}" after "${top.last}".`);
    }
    top.last = base;
    if (isDir) this.#stack.push({ dir: path, last: undefined });
  }
}

/** Relative, non-empty, and as path.normalize leaves it: no empty, "." or ".." component. */
function isClean(path: string): boolean {
  let start = 0;
  for (;;) {
    const slash = path.indexOf("/", start);
    const end = slash < 0 ? path.length : slash;
    const len = end - start;
    if (len === 0) return false;
    if (path.charCodeAt(start) === 0x2e && (len === 1 || (len === 2 && path.charCodeAt(start + 1) === 0x2e))) return false;
    if (slash < 0) return true;
    start = slash + 1;
  }
}
