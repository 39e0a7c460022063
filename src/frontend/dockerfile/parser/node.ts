// The parser's AST: a root whose children are instructions. Arguments are kept as upstream lays them
// out (ENV/LABEL as key, value, separator triples) so the instruction layer can mirror upstream.

import type { SourceRange } from "../../../util/errors.js";

/** A here-document attached to a RUN/COPY/ADD instruction. */
export interface Heredoc {
  /** The delimiter word, quotes removed. */
  name: string;
  /** The file descriptor before `<<` (`3<<EOF`), 0 when absent. */
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the content is then not expanded. */
  expand: boolean;
  /** True for `<<-`: leading tabs are to be stripped from the content (see chompHeredocContent). */
  chomp: boolean;
  /** The lines between the instruction and the delimiter, each with its own line ending. */
  content: string;
}

/** One instruction, or the root (value "", children = instructions). */
export interface Node {
  /** The instruction keyword, lower-cased (`run`, `copy`…); "" for the root. */
  value: string;
  /** The keyword as written, for casing checks. */
  rawKeyword: string;
  /** The whole instruction line after continuations were joined (without its heredoc bodies). */
  original: string;
  /** Flags before the arguments, as written without quotes (`--from=build`). */
  flags: string[];
  /**
   * The arguments. JSON form: the array elements. ENV/LABEL: triples key, value, separator (`=`, or ""
   * for the legacy `ENV k v` form). Other shell-form instructions: see the per-instruction rules.
   */
  next: string[];
  /** `json` is true when the arguments came from a JSON array (exec form). */
  attributes: { json: boolean };
  heredocs: Heredoc[];
  /** 1-based first and last line of the instruction, heredoc bodies included. */
  startLine: number;
  endLine: number;
  /** Root: the instructions. ONBUILD: the one nested instruction. Otherwise empty. */
  children: Node[];
  /** The comment lines just before the instruction, `#` and surrounding space removed. */
  prevComment: string[];
}

/** A parser warning (upstream's `parser.Warning`). */
export interface Warning {
  short: string;
  detail: string[];
  url: string;
  location: SourceRange;
}

/** A fresh instruction node with no arguments. */
export function createNode(fields: Partial<Node> & Pick<Node, "value">): Node {
  return {
    rawKeyword: fields.value,
    original: "",
    flags: [],
    next: [],
    attributes: { json: false },
    heredocs: [],
    startLine: 0,
    endLine: 0,
    children: [],
    prevComment: [],
    ...fields,
  };
}

/** The lines an instruction covers, one range per line, as upstream reports locations. */
export function nodeLocation(node: Pick<Node, "startLine" | "endLine">): SourceRange[] {
  const ranges: SourceRange[] = [];
  const end = Math.max(node.endLine, node.startLine);
  for (let line = node.startLine; line <= end; line++) {
    ranges.push({ start: { line, character: 0 }, end: { line, character: 0 } });
  }
  return ranges;
}
