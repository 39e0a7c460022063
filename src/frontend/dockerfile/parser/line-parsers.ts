// Per-instruction argument parsing (upstream's dispatch table): which instructions accept JSON form,
// which split on blanks, and how ENV/LABEL/ARG pairs are read. ONBUILD is handled by the caller.

import { GantryError } from "../../../util/errors.js";
import { goQuote } from "../shell/go-quote.js";
import { isUnicodeSpace, trimLeftUnicodeSpace } from "../shell/unicode-space.js";
import { parseWords } from "./parse-words.js";
import { splitOnBlanks } from "./split-command.js";

/** The arguments of one instruction and whether they came from a JSON array. */
export interface LineParseResult {
  args: string[];
  json: boolean;
}

/** Parses the argument text of one instruction. Throws GantryError InvalidArgument. */
export type LineParser = (rest: string, escapeToken: string) => LineParseResult;

const NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only";

const shellForm = (args: string[]): LineParseResult => ({ args, json: false });

/** ENV and LABEL: `k=v …` pairs, or the legacy `k v` form. Output triples: key, value, `=` or "". */
function parseNameVal(rest: string, keyword: string, escapeToken: string): LineParseResult {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return shellForm([]);
  if (!words[0].includes("=")) {
    const parts = splitOnBlanks(rest, 2);
    if (parts.length < 2) throw new GantryError("InvalidArgument", `${keyword} must have two arguments`);
    return shellForm([parts[0], parts[1], ""]);
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq < 0) {
      throw new GantryError("InvalidArgument",
        `Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    }
    args.push(word.slice(0, eq), word.slice(eq + 1), "=");
  }
  return shellForm(args);
}

/** ARG: words, each `name` or `name=value`, kept whole. */
function parseNameOrNameVal(rest: string, escapeToken: string): LineParseResult {
  return shellForm(parseWords(rest, escapeToken));
}

/** FROM, EXPOSE: blank-separated words. */
function parseStringsWhitespaceDelimited(rest: string): LineParseResult {
  return shellForm(rest === "" ? [] : splitOnBlanks(rest));
}

/** USER, WORKDIR, MAINTAINER, STOPSIGNAL: the whole text as one argument. */
function parseString(rest: string): LineParseResult {
  return shellForm(rest === "" ? [] : [rest]);
}

/** Unknown instructions keep one empty argument, as upstream; the instruction layer rejects them. */
function parseIgnore(): LineParseResult {
  return shellForm([""]);
}

/**
 * A JSON array of strings, or undefined when `rest` is not a JSON array. Throws when it is an array
 * holding something other than strings.
 */
export function parseJSONArray(rest: string): string[] | undefined {
  const text = trimLeftUnicodeSpace(rest);
  if (!text.startsWith("[")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // invalid JSON falls back to shell form
  }
  if (!Array.isArray(parsed)) return undefined;
  const items: unknown[] = parsed;
  if (!items.every((x): x is string => typeof x === "string")) throw new GantryError("InvalidArgument", NOT_STRING_ARRAY);
  return items;
}

/** RUN, CMD, ENTRYPOINT, SHELL: JSON array, else the whole text as one argument. */
function parseMaybeJSON(rest: string): LineParseResult {
  if (rest === "") return shellForm([]);
  const json = parseJSONArray(rest);
  return json === undefined ? shellForm([rest]) : { args: json, json: true };
}

/** ADD, COPY, VOLUME: JSON array, else blank-separated words. */
function parseMaybeJSONToList(rest: string): LineParseResult {
  const json = parseJSONArray(rest);
  return json === undefined ? parseStringsWhitespaceDelimited(rest) : { args: json, json: true };
}

/** HEALTHCHECK: a type word (`CMD`, `NONE`) then a command in JSON or shell form. */
function parseHealthConfig(rest: string): LineParseResult {
  const chars = Array.from(rest);
  let sep = 0;
  while (sep < chars.length && !isUnicodeSpace(chars[sep])) sep++;
  if (sep === 0) return shellForm([]);
  let next = sep;
  while (next < chars.length && isUnicodeSpace(chars[next])) next++;
  const cmd = parseMaybeJSON(chars.slice(next).join(""));
  return { args: [chars.slice(0, sep).join(""), ...cmd.args], json: cmd.json };
}

const DISPATCH: ReadonlyMap<string, LineParser> = new Map<string, LineParser>([
  ["add", parseMaybeJSONToList],
  ["arg", parseNameOrNameVal],
  ["cmd", parseMaybeJSON],
  ["copy", parseMaybeJSONToList],
  ["entrypoint", parseMaybeJSON],
  ["env", (rest, esc) => parseNameVal(rest, "ENV", esc)],
  ["expose", parseStringsWhitespaceDelimited],
  ["from", parseStringsWhitespaceDelimited],
  ["healthcheck", parseHealthConfig],
  ["label", (rest, esc) => parseNameVal(rest, "LABEL", esc)],
  ["maintainer", parseString],
  ["run", parseMaybeJSON],
  ["shell", parseMaybeJSON],
  ["stopsignal", parseString],
  ["user", parseString],
  ["volume", parseMaybeJSONToList],
  ["workdir", parseString],
]);

/** The argument parser for a lower-cased keyword (unknown keywords get one that ignores the text). */
export function lineParserFor(keyword: string): LineParser {
  return DISPATCH.get(keyword) ?? parseIgnore;
}
