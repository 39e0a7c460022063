// Splits an instruction line into keyword, `--flags` and the rest, as upstream's splitCommand does.

import { isUnicodeSpace, trimUnicodeSpace } from "../shell/unicode-space.js";

/** The parts of one instruction line. */
export interface SplitCommand {
  /** The keyword as written. */
  keyword: string;
  flags: string[];
  /** The arguments after the flags, trimmed. */
  args: string;
}

const BLANKS = /[\t\v\f\r ]+/;

/** Splits `s` at runs of blanks (tab, VT, FF, CR, space), into at most `limit` parts when given. */
export function splitOnBlanks(s: string, limit?: number): string[] {
  if (limit === undefined) return s.split(BLANKS);
  const parts: string[] = [];
  let rest = s;
  while (parts.length < limit - 1) {
    const m = BLANKS.exec(rest);
    if (m === null) break;
    parts.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(rest);
  return parts;
}

/** Splits `line` into keyword, leading `--flags` and arguments. */
export function splitCommand(line: string, escapeToken: string): SplitCommand {
  const [keyword, rest] = splitOnBlanks(trimUnicodeSpace(line), 2);
  if (rest === undefined) return { keyword, flags: [], args: "" };
  const { flags, remaining } = extractBuilderFlags(rest, escapeToken);
  return { keyword, flags, args: trimUnicodeSpace(remaining) };
}

/**
 * Takes the leading words starting with `--` off `line`. Quotes and the escape token group characters
 * in a flag and are removed; a bare `--` ends the flags.
 */
export function extractBuilderFlags(line: string, escapeToken: string): { flags: string[]; remaining: string } {
  const chars = Array.from(line);
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < chars.length && isUnicodeSpace(chars[pos])) pos++;
    if (pos >= chars.length) return { flags, remaining: "" };
    if (chars[pos] !== "-" || chars[pos + 1] !== "-") return { flags, remaining: chars.slice(pos).join("") };
    const { word, end, quoted } = readFlagWord(chars, pos, escapeToken);
    pos = end;
    if (word === "--") return { flags, remaining: chars.slice(pos).join("") };
    if (quoted || word.length > 0) flags.push(word);
  }
}

/** Reads one flag word from `start` up to unquoted white space or the end. */
function readFlagWord(chars: string[], start: number, escapeToken: string): { word: string; end: number; quoted: boolean } {
  let word = "";
  let quote = "";
  let quoted = false;
  let pos = start;
  for (; pos < chars.length; pos++) {
    let ch = chars[pos];
    if (quote === "" && isUnicodeSpace(ch)) break;
    if (quote === "" && (ch === "'" || ch === "\"")) {
      quote = ch;
      quoted = true;
      continue;
    }
    if (quote !== "" && ch === quote) {
      quote = "";
      continue;
    }
    if (ch === escapeToken) {
      if (pos + 1 === chars.length) {
        // A trailing escape token is dropped; an open quote is closed by the end anyway.
        quote = "";
        continue;
      }
      ch = chars[++pos];
    }
    word += ch;
  }
  return { word, end: pos, quoted };
}
