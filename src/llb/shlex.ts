// Word splitting for `run({ shlex })`: whitespace separates words, single quotes keep text literally,
// double quotes and backslashes escape like a POSIX shell (no expansion, no shell is run).
import { GantryError } from "../util/errors.js";

/** Splits a command line into words; throws InvalidArgument on an unterminated quote or escape. */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (c === "\\") {
      if (i + 1 >= line.length) throw new GantryError("InvalidArgument", `The command "${line}" ends in a lone backslash.`);
      word += line[++i];
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new GantryError("InvalidArgument", `The command "${line}" has an unterminated ${quote} quote.`);
  if (inWord) words.push(word);
  return words;
}
