// Heredoc markers (`<<EOF`, `<<-EOF`, `3<<"EOF"`) on RUN/COPY/ADD lines. The bodies are read by the
// parser loop; this module finds the markers and decides expansion from the delimiter's quoting.

import { createShellLex } from "../shell/shell-lex.js";
import type { Heredoc } from "./node.js";

const HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const LEADING_TABS = /^\t+/gm;
const NO_ENV: ReadonlyMap<string, string> = new Map();

// Heredoc words are always read with a backslash escape, whatever the file's escape directive.
const plainLex = createShellLex("\\", { skipUnsetEnv: true });
const rawQuoteLex = createShellLex("\\", { skipUnsetEnv: true, rawQuotes: true });
const lineLex = createShellLex("\\", { skipUnsetEnv: true, rawQuotes: true, rawEscapes: true });

/**
 * The heredoc a single word declares (`<<EOF`, `<<-'EOF'`…), with empty content, or undefined when
 * the word is not a heredoc marker. Throws InvalidArgument for an unterminated quote in the delimiter.
 */
export function parseHeredoc(word: string): Heredoc | undefined {
  const m = HEREDOC.exec(word);
  if (m === null || m[3] === "") return undefined;
  const rest = m[3];
  const words = plainLex.processWords(rest, NO_ENV);
  if (words.length !== 1) return undefined;
  const raw = rawQuoteLex.processWords(rest, NO_ENV);
  // Any quote in the delimiter (kept only by the raw reading) turns expansion off.
  const expand = countQuotes(words[0]) === countQuotes(raw[0] ?? "");
  return { name: words[0], fileDescriptor: m[1] === "" ? 0 : Number(m[1]), expand, chomp: m[2] === "-", content: "" };
}

/** The heredocs declared on an instruction line, in order. Unparseable lines declare none. */
export function heredocsFromLine(line: string): Heredoc[] {
  let words: string[];
  try {
    words = lineLex.processWords(line, NO_ENV);
  } catch {
    return []; // upstream ignores lexing errors here: such a line simply has no heredocs
  }
  const docs: Heredoc[] = [];
  for (const word of words) {
    const doc = parseHeredoc(word);
    if (doc !== undefined) docs.push(doc);
  }
  return docs;
}

/** Strips leading tabs from every line, for `<<-` heredocs. */
export function chompHeredocContent(content: string): string {
  return content.replace(LEADING_TABS, "");
}

function countQuotes(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === "'" || ch === "\"") n++;
  return n;
}
