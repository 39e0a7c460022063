// The Dockerfile parser: lines → instruction nodes, following upstream's rules for directives, comments,
// continuations, empty continuation lines (a warning) and heredoc bodies.

import { messageOf } from "../../../util/errors.js";
import { trimLeftUnicodeSpace, trimUnicodeSpace } from "../shell/unicode-space.js";
import { DirectiveParser, detectSyntax, parseDirective } from "./directives.js";
import { heredocsFromLine } from "./heredoc.js";
import { canContainHeredoc, newNodeFromLine } from "./instruction-node.js";
import { createEscapeState, trimContinuation, type EscapeState } from "./line-continuation.js";
import { createNode, type Node, type Warning } from "./node.js";
import { DockerfileParseError } from "./parse-error.js";

/** Directives in effect for a parsed Dockerfile. */
export interface ParsedDirectives {
  /** The frontend image of `# syntax=` (first word only), when given. */
  syntax?: string;
  /** The escape token in effect: `\` (default) or a backtick. */
  escape: string;
  /** The `# check=` value (first word only), when given. */
  check?: string;
}

/** What `parseDockerfile` returns. */
export interface ParseResult {
  /** The root: value "", children = instructions in order. */
  ast: Node;
  directives: ParsedDirectives;
  warnings: Warning[];
  /** Same as `directives.escape`, for the shell lexer. */
  escapeToken: string;
}

const EMPTY_CONTINUATION_URL = "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/";

/** Reads lines (each keeping its line ending) and tracks escape state and the directive scan. */
class LineSource {
  readonly #lines: string[];
  readonly #directives = new DirectiveParser();
  #index = 0;
  line = 0;
  escape: EscapeState = createEscapeState("\\");

  constructor(text: string) {
    this.#lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  }

  /** The next raw line (line ending kept), or undefined at the end. Counts the line. */
  next(): string | undefined {
    const raw = this.#lines[this.#index++];
    if (raw !== undefined) this.line++;
    return raw;
  }

  /** Strips the line ending (and leading space when asked), applies directives, drops comments. */
  process(raw: string, stripLeft: boolean): { text: string; isDirective: boolean } {
    let text = raw.replace(/[\r\n]+$/, "");
    if (stripLeft) text = trimLeftUnicodeSpace(text);
    const directive = this.#directives.parseLine(text);
    if (directive?.name === "escape") this.escape = createEscapeState(directive.value, this.line);
    return { text: isComment(text) ? "" : text, isDirective: directive !== undefined };
  }
}

/**
 * Parses a Dockerfile. Throws DockerfileParseError (InvalidArgument, with `line`) for a file with no
 * instructions, a bad or repeated directive, an unterminated heredoc or a malformed instruction.
 */
export function parseDockerfile(input: string | Uint8Array): ParseResult {
  const text = typeof input === "string" ? input : new TextDecoder("utf-8", { ignoreBOM: true }).decode(input);
  const src = new LineSource(text.startsWith("\uFEFF") ? text.slice(1) : text);
  const root = createNode({ value: "", startLine: -1 });
  const warnings: Warning[] = [];
  let comments: string[] = [];
  for (let raw = src.next(); raw !== undefined; raw = src.next()) {
    if (isComment(raw)) {
      const comment = trimUnicodeSpace(trimLeftUnicodeSpace(raw).slice(1));
      comments = comment === "" ? [] : [...comments, comment];
    }
    const first = src.process(raw, true);
    if (first.isDirective) comments = comments.slice(0, -1);
    const startLine = src.line;
    const joined = joinContinuation(src, first.text);
    if (joined === undefined) continue;
    if (joined.hadEmptyLine) warnings.push(emptyContinuationWarning(joined.line, src.line));
    const child = withLines(startLine, src, () => newNodeFromLine(joined.line, src.escape.token, comments));
    if (canContainHeredoc(child) && joined.line.includes("<<")) readHeredocs(child, joined.line, src, startLine);
    child.startLine = startLine;
    child.endLine = src.line;
    if (root.startLine < 0) root.startLine = startLine;
    root.endLine = src.line;
    root.children.push(child);
    comments = [];
  }
  if (root.children.length === 0) throw new DockerfileParseError("file with no instructions", { start: src.line });
  return { ast: root, directives: directivesOf(text, src.escape.token), warnings, escapeToken: src.escape.token };
}

/** Joins continuation lines onto `first`; undefined when `first` is blank and does not continue. */
function joinContinuation(src: LineSource, first: string): { line: string; hadEmptyLine: boolean } | undefined {
  let { text, isEnd } = trimContinuation(first, src.escape);
  if (isEnd && text === "") return undefined;
  let line = text;
  let hadEmptyLine = false;
  while (!isEnd) {
    const raw = src.next();
    if (raw === undefined) break;
    const processed = withLines(src.line, src, () => src.process(raw, false));
    // Comment lines inside a continuation are dropped; blank ones are dropped with a warning.
    if (isComment(raw)) continue;
    if (trimLeftUnicodeSpace(processed.text) === "") {
      hadEmptyLine = true;
      continue;
    }
    ({ text, isEnd } = trimContinuation(processed.text, src.escape));
    line += text;
  }
  return { line, hadEmptyLine };
}

/** Reads the bodies of the heredocs declared on `line` from the following lines. */
function readHeredocs(child: Node, line: string, src: LineSource, startLine: number): void {
  const heredocs = withLines(startLine, src, () => heredocsFromLine(line));
  for (const doc of heredocs) {
    let content = "";
    let terminated = false;
    for (let raw = src.next(); raw !== undefined; raw = src.next()) {
      let candidate = raw.replace(/[\r\n]+$/, "");
      if (doc.chomp) candidate = candidate.replace(/^\t+/, "");
      if (candidate === doc.name) {
        terminated = true;
        break;
      }
      content += raw;
    }
    if (!terminated) throw new DockerfileParseError("unterminated heredoc", { start: startLine, end: src.line });
    child.heredocs.push({ ...doc, content });
  }
}

/** Runs `fn`, turning any error into a DockerfileParseError for lines start..current. */
function withLines<T>(start: number, src: LineSource, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DockerfileParseError) throw err;
    throw new DockerfileParseError(messageOf(err), { start, end: src.line }, { cause: err });
  }
}

function emptyContinuationWarning(line: string, at: number): Warning {
  return {
    short: "Empty continuation line found in: " + line,
    detail: ["Empty continuation lines will become errors in a future release"],
    url: EMPTY_CONTINUATION_URL,
    location: { start: { line: at, character: 0 }, end: { line: at, character: 0 } },
  };
}

function directivesOf(text: string, escape: string): ParsedDirectives {
  const directives: ParsedDirectives = { escape };
  const syntax = detectSyntax(text);
  if (syntax !== undefined) directives.syntax = syntax.value;
  const check = parseDirective("check", text);
  if (check !== undefined) directives.check = check.value;
  return directives;
}

function isComment(line: string): boolean {
  return trimLeftUnicodeSpace(line).startsWith("#");
}
