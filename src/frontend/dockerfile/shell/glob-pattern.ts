// Shell patterns of `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}`: `*` any string, `?` any one
// character, `\` quotes `*`, `?` or `\`. Bracket expressions are not supported (as upstream).

import { GantryError } from "../../../util/errors.js";

const REGEX_SPECIAL = new Set(["[", "]", "{", "}", ".", "+", "(", ")", "|", "^", "$"]);

/**
 * Compiles a shell pattern to a RegExp. `greedy` makes `*` match the longest string, `anchored` ties
 * the match to the start. Throws InvalidArgument for an escape of anything but `*`, `?`, `\`.
 */
export function shellPatternToRegExp(pattern: string, opts: { greedy: boolean; anchored: boolean; global?: boolean }): RegExp {
  const chars = Array.from(pattern);
  // Go's `.` stops at a newline only; `[^\n]` keeps that meaning in JavaScript.
  const star = opts.greedy ? "[^\\n]*" : "[^\\n]*?";
  let out = opts.anchored ? "^" : "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === "*") out += star;
    else if (ch === "?") out += "[^\\n]";
    else if (ch === "\\") {
      // `\}` and `\/` only protect the `${…}` syntax; the backslash is not part of the pattern.
      if (chars[i + 1] === "}" || chars[i + 1] === "/") continue;
      const quoted = chars[++i];
      if (quoted !== "*" && quoted !== "?" && quoted !== "\\") {
        throw invalidPattern(pattern, `invalid escape '\\${quoted ?? ""}'`);
      }
      out += "\\" + quoted;
    } else out += REGEX_SPECIAL.has(ch) ? "\\" + ch : ch;
  }
  return new RegExp(out, opts.global === true ? "gu" : "u");
}

/** Removes the shortest (or, `greedy`, longest) prefix of `value` matching `pattern`. */
export function trimPatternPrefix(value: string, pattern: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, { greedy, anchored: true }).exec(value);
  return m === null ? value : value.slice(m[0].length);
}

/** Removes the shortest (or, `greedy`, longest) suffix of `value` matching `pattern`. */
export function trimPatternSuffix(value: string, pattern: string, greedy: boolean): string {
  // A regex finds leftmost matches only, so search the reversed value with the reversed pattern.
  const rev = trimPatternPrefix(reverseString(value), reversePattern(pattern), greedy);
  return reverseString(rev);
}

/** Replaces the first (or every) match of `pattern` in `value` with the literal `replacement`. */
export function replacePattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const re = shellPatternToRegExp(pattern, { greedy: true, anchored: false, global: all });
  return value.replace(re, () => replacement);
}

/** Reverses a pattern by characters, keeping each `\x` escape pair in order (`a\*c` → `c\*a`). */
export function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last;) {
    if (chars[i] === "\\" && i !== last) {
      out[last - i - 1] = "\\";
      out[last - i] = chars[i + 1];
      i += 2;
    } else {
      out[last - i] = chars[i];
      i++;
    }
  }
  return out.join("");
}

/** Reverses a string by code points. */
export function reverseString(s: string): string {
  return Array.from(s).reverse().join("");
}

function invalidPattern(pattern: string, reason: string): GantryError {
  return new GantryError("InvalidArgument", `invalid pattern (${pattern}) in substitution: ${reason}`);
}
