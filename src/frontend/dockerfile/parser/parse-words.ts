// Splits ENV/LABEL/ARG arguments into words at unquoted white space, keeping quotes and escapes in
// the words (the converter removes them later when it expands each word).

import { isUnicodeSpace } from "../shell/unicode-space.js";

/** Words of `rest`, quotes and escape tokens kept; a quoted empty word (`""`) counts as a word. */
export function parseWords(rest: string, escapeToken: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < chars.length && isUnicodeSpace(chars[pos])) pos++;
    if (pos >= chars.length) return words;
    const { word, end, blankOk } = readWord(chars, pos, escapeToken);
    if (blankOk || word.length > 0) words.push(word);
    pos = end;
  }
}

function readWord(chars: string[], start: number, escapeToken: string): { word: string; end: number; blankOk: boolean } {
  let word = "";
  let quote = "";
  let blankOk = false;
  let pos = start;
  for (; pos < chars.length; pos++) {
    const ch = chars[pos];
    if (quote === "") {
      if (isUnicodeSpace(ch)) break;
      if (ch === "'" || ch === "\"") {
        quote = ch;
        blankOk = true;
      } else if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue; // a trailing escape token is dropped
        // The escaped character, even a quote, is taken literally along with its escape token.
        word += ch + chars[++pos];
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = "";
    else if (ch === escapeToken && quote !== "'") {
      // Inside double quotes the escape token protects the next character; not inside single quotes.
      if (pos + 1 === chars.length) {
        quote = "";
        continue;
      }
      word += ch;
      word += chars[++pos];
      continue;
    }
    word += ch;
  }
  return { word, end: pos, blankOk };
}
