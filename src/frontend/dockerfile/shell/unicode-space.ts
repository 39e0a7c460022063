// Go's notion of white space (unicode.IsSpace / strings.TrimSpace). JavaScript's `\s` differs from it
// (it includes U+FEFF), and upstream's word splitting is defined in Go's terms.

const SPACE = /^\p{White_Space}$/u;
const LEADING = /^\p{White_Space}+/u;
const TRAILING = /\p{White_Space}+$/u;

/** True when the single character `ch` is white space for Go's `unicode.IsSpace`. */
export function isUnicodeSpace(ch: string): boolean {
  return SPACE.test(ch);
}

/** Go's `strings.TrimSpace`. */
export function trimUnicodeSpace(s: string): string {
  return s.replace(LEADING, "").replace(TRAILING, "");
}

/** Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function trimLeftUnicodeSpace(s: string): string {
  return s.replace(LEADING, "");
}
