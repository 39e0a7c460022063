// Parser directives (`# syntax=…`, `# escape=…`, `# check=…`): only in the leading comment lines, one
// per line, each key at most once, keys case-insensitive. The first other line ends the scan.

import { trimLeftUnicodeSpace } from "../shell/unicode-space.js";
import { DockerfileParseError } from "./parse-error.js";

/** A directive found at the top of a Dockerfile. */
export interface Directive {
  /** Lower-cased key: `syntax`, `escape` or `check`. */
  name: string;
  /** The value, surrounding white space removed. */
  value: string;
  /** 1-based line number. */
  line: number;
}

/** A directive value as the frontend uses it: the first word, and the whole text (the "cmdline"). */
export interface DirectiveValue {
  value: string;
  cmdline: string;
  line: number;
}

const VALID = new Set(["syntax", "escape", "check"]);
// Go's `\s` is ASCII white space; JavaScript's is wider, so spell it out.
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;

/** Reads directives line by line; stateful (line count, keys seen, done). */
export class DirectiveParser {
  #line: number;
  #comment: string;
  #seen = new Set<string>();
  #done = false;

  /** `comment` is the prefix marking a directive line (`#`, or `//` for syntax detection). */
  constructor(opts: { comment?: string; firstLine?: number } = {}) {
    this.#comment = opts.comment ?? "#";
    this.#line = opts.firstLine ?? 0;
  }

  /** True once a line that is not a directive was seen. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Looks at the next line (without its line ending). Returns the directive on it, or undefined.
   * Throws DockerfileParseError when a directive is repeated.
   */
  parseLine(text: string): Directive | undefined {
    this.#line++;
    if (this.#done) return undefined;
    if (!text.startsWith(this.#comment)) {
      this.#done = true;
      return undefined;
    }
    const m = DIRECTIVE.exec(trimLeftUnicodeSpace(text.slice(this.#comment.length)));
    const name = m?.[1].toLowerCase();
    if (m === null || name === undefined || !VALID.has(name)) {
      this.#done = true;
      return undefined;
    }
    if (this.#seen.has(name)) {
      throw new DockerfileParseError(`only one ${name} parser directive can be used`, { start: this.#line });
    }
    this.#seen.add(name);
    return { name, value: m[2], line: this.#line };
  }

  /** All directives at the top of `text`. Throws DockerfileParseError when a directive is repeated. */
  parseAll(text: string): Directive[] {
    const found: Directive[] = [];
    for (const line of text.split("\n")) {
      if (this.#done) break;
      const d = this.parseLine(line.replace(/\r$/, ""));
      if (d !== undefined) found.push(d);
    }
    return found;
  }
}

/**
 * Finds the `syntax` directive as upstream's DetectSyntax does: `# syntax=`, then `// syntax=`, then a
 * JSON document's `"syntax"` key; a leading BOM and `#!` line are skipped.
 */
export function detectSyntax(text: string): DirectiveValue | undefined {
  return findDirective("syntax", text, true);
}

/** Finds directive `key` (`check`, `escape`…) in `#` comment form only. */
export function parseDirective(key: string, text: string): DirectiveValue | undefined {
  return findDirective(key, text, false);
}

function findDirective(key: string, input: string, anyFormat: boolean): DirectiveValue | undefined {
  let text = input.startsWith("\uFEFF") ? input.slice(1) : input;
  let firstLine = 0;
  const nl = text.indexOf("\n");
  if (text.startsWith("#!")) {
    text = nl < 0 ? "" : text.slice(nl + 1);
    firstLine = 1;
  }
  const prefixes = anyFormat ? ["#", "//"] : ["#"];
  for (const comment of prefixes) {
    const d = scanDirectives(new DirectiveParser({ comment, firstLine }), text).find((x) => x.name === key);
    if (d !== undefined) return { value: d.value.split(" ")[0], cmdline: d.value, line: d.line };
  }
  return anyFormat ? jsonDirective(key, text, firstLine) : undefined;
}

function scanDirectives(parser: DirectiveParser, text: string): Directive[] {
  const found: Directive[] = [];
  for (const line of text.split("\n")) {
    if (parser.done) break;
    try {
      const d = parser.parseLine(line.replace(/\r$/, ""));
      if (d !== undefined) found.push(d);
    } catch {
      break; // a repeated directive ends the scan; the ones before it still count, as upstream
    }
  }
  return found;
}

function jsonDirective(key: string, text: string, line: number): DirectiveValue | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined; // not a JSON document: no JSON directive
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  const v = (doc as Record<string, unknown>)[key];
  return typeof v === "string" ? { value: v, cmdline: v, line } : undefined;
}
