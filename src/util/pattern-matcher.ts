// Docker-compatible path patterns: the `.dockerignore` / COPY include-exclude matcher (moby/patternmatcher
// semantics: `**`, `!` exceptions, parent-directory matching) and Go's `filepath.Match` glob, which both
// validates patterns and resolves COPY wildcards. Paths are slash-separated and relative (no leading `/`).
import { posix } from "node:path";
import { GantryError } from "./errors.js";

/** Per-pattern results for a directory, handed to its children by `matchesUsingParentResults`. */
export interface MatchInfo {
  readonly parentMatched: readonly boolean[];
}

/** Result of `matchesUsingParentResults`: whether the path matches, and the info its children need. */
export interface MatchResult {
  matched: boolean;
  info: MatchInfo;
}

/** A compiled, ordered pattern list. Later patterns override earlier ones; `!` patterns re-include. */
export interface PatternMatcher {
  /** The cleaned patterns, exclusions with their `!` prefix, in order. */
  readonly patterns: readonly string[];
  /** True when any pattern is an `!` exception (then excluded dirs must still be walked). */
  readonly hasExclusions: boolean;
  /**
   * Upstream's legacy `Matches`: the path, or the one parent prefix with as many components as the
   * pattern, matches. Kept for compatibility; prefer `matchesOrParentMatches`.
   */
  matches(path: string): boolean;
  /** True when the path or any of its parent directories matches (the `.dockerignore` rule). */
  matchesOrParentMatches(path: string): boolean;
  /**
   * Same answer as `matchesOrParentMatches`, but reuses the parent directory's results while walking a
   * tree top-down: pass the `info` returned for the parent (or nothing for a top-level entry).
   */
  matchesUsingParentResults(path: string, parent?: MatchInfo): MatchResult;
}

type MatchKind = "exact" | "prefix" | "suffix" | "regexp";

interface CompiledPattern {
  cleaned: string;
  exclusion: boolean;
  dirCount: number;
  kind: MatchKind;
  regexp?: RegExp;
}

/**
 * Compiles patterns like the Docker CLI/BuildKit do: each is trimmed, empty ones dropped, Go-`Clean`ed; a
 * leading `!` marks an exception. Throws InvalidArgument naming the pattern when one is malformed.
 */
export function createPatternMatcher(patterns: readonly string[]): PatternMatcher {
  const compiled: CompiledPattern[] = [];
  for (const raw of patterns) {
    let p = goTrimSpace(raw);
    if (p === "") continue;
    p = goClean(p);
    let exclusion = false;
    if (p[0] === "!") {
      if (p.length === 1) throw new GantryError("InvalidArgument", 'Invalid pattern "!": illegal exclusion pattern: "!".');
      exclusion = true;
      p = p.slice(1);
    }
    compiled.push(compilePattern(p, exclusion, raw));
  }
  return new CompiledMatcher(compiled);
}

class CompiledMatcher implements PatternMatcher {
  readonly #patterns: CompiledPattern[];
  readonly patterns: readonly string[];
  readonly hasExclusions: boolean;

  constructor(patterns: CompiledPattern[]) {
    this.#patterns = patterns;
    this.patterns = patterns.map((p) => (p.exclusion ? "!" : "") + p.cleaned);
    this.hasExclusions = patterns.some((p) => p.exclusion);
  }

  matches(path: string): boolean {
    const parentDirs = parentComponents(path);
    let matched = false;
    for (const p of this.#patterns) {
      // An inclusion cannot change an already matched path, nor an exclusion an unmatched one.
      if (p.exclusion !== matched) continue;
      let hit = matchOne(p, path);
      if (!hit && parentDirs.length > 0 && p.dirCount <= parentDirs.length) {
        hit = matchOne(p, parentDirs.slice(0, p.dirCount).join("/"));
      }
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }

  matchesOrParentMatches(path: string): boolean {
    const parentDirs = parentComponents(path);
    let matched = false;
    for (const p of this.#patterns) {
      if (p.exclusion !== matched) continue;
      if (matchOne(p, path) || matchesAnyParent(p, parentDirs)) matched = !p.exclusion;
    }
    return matched;
  }

  matchesUsingParentResults(path: string, parent?: MatchInfo): MatchResult {
    const parentMatched = parent?.parentMatched ?? [];
    if (parentMatched.length !== 0 && parentMatched.length !== this.#patterns.length) {
      throw new GantryError("Internal", "Cannot match with parent results: they are for a different pattern list.");
    }
    const info: boolean[] = new Array<boolean>(this.#patterns.length).fill(false);
    let matched = false;
    this.#patterns.forEach((p, i) => {
      let hit = parentMatched.length !== 0 && parentMatched[i];
      if (!hit) {
        if (p.exclusion !== matched) return;
        hit = matchOne(p, path);
        // Without the parent's results, check the parents here (same as matchesOrParentMatches).
        if (!hit && parentMatched.length === 0) hit = matchesAnyParent(p, parentComponents(path));
      }
      info[i] = hit;
      if (hit) matched = !p.exclusion;
    });
    return { matched, info: { parentMatched: info } };
  }
}

/** The components of Go's `filepath.Dir(path)`; none when that is `.`. */
function parentComponents(path: string): string[] {
  const dir = goClean(path.slice(0, path.lastIndexOf("/") + 1));
  return dir === "." ? [] : dir.split("/");
}

function matchesAnyParent(p: CompiledPattern, parentDirs: string[]): boolean {
  for (let i = 1; i <= parentDirs.length; i++) {
    if (matchOne(p, parentDirs.slice(0, i).join("/"))) return true;
  }
  return false;
}

function matchOne(p: CompiledPattern, path: string): boolean {
  switch (p.kind) {
    case "exact":
      return path === p.cleaned;
    case "prefix":
      return path.startsWith(p.cleaned.slice(0, -2));
    case "suffix": {
      const suffix = p.cleaned.slice(2);
      if (path.endsWith(suffix)) return true;
      // `**/foo` also matches `foo` at the top.
      return suffix[0] === "/" && path === suffix.slice(1);
    }
    case "regexp":
      return p.regexp!.test(path);
  }
}

/**
 * Classifies a cleaned pattern (exact string, `dir/**` prefix, `**suffix`, or a regexp) the way upstream
 * does, since the class decides some edge results (`**file` matches `myfile`).
 */
function compilePattern(cleaned: string, exclusion: boolean, raw: string): CompiledPattern {
  validateGlob(cleaned, raw);
  const chars = Array.from(cleaned);
  let kind: MatchKind = "exact";
  let re = "^";
  for (let i = 0, step = 0; i < chars.length; i++, step++) {
    const ch = chars[i];
    if (ch === "*" && chars[i + 1] === "*") {
      i++;
      if (chars[i + 1] === "/") i++;
      if (i + 1 >= chars.length) {
        if (kind === "exact") kind = "prefix";
        else {
          re += ".*";
          kind = "regexp";
        }
      } else {
        re += "(?:.*/)?";
        kind = "regexp";
      }
      if (step === 0) kind = "suffix";
    } else if (ch === "*") {
      re += "[^/]*";
      kind = "regexp";
    } else if (ch === "?") {
      re += "[^/]";
      kind = "regexp";
    } else if (ch === "\\") {
      // A trailing backslash was rejected by validateGlob; otherwise it escapes the next character.
      i++;
      re += escapeRegExp(chars[i]);
      kind = "regexp";
    } else if (ch === "[") {
      const end = classEnd(chars, i);
      re += translateClass(chars.slice(i + 1, end));
      i = end;
      kind = "regexp";
    } else {
      re += escapeRegExp(ch);
      if (ch === "]") kind = "regexp";
    }
  }
  const out: CompiledPattern = { cleaned, exclusion, dirCount: cleaned.split("/").length, kind };
  if (kind === "regexp") {
    try {
      out.regexp = new RegExp(re + "$", "u");
    } catch (err) {
      throw badPattern(raw, err);
    }
  }
  return out;
}

/** Index of the `]` closing the class opened at `start` (the pattern is already validated). */
function classEnd(chars: string[], start: number): number {
  let i = start + 1;
  if (chars[i] === "^") i++;
  let items = 0;
  for (;;) {
    if (chars[i] === "]" && items > 0) return i;
    if (chars[i] === "\\") i++;
    i++;
    items++;
  }
}

function translateClass(body: string[]): string {
  let out = "[";
  let i = 0;
  if (body[0] === "^") {
    out += "^";
    i = 1;
  }
  const item = (): string => {
    if (body[i] === "\\") i++;
    return escapeClassChar(body[i++]);
  };
  while (i < body.length) {
    out += item();
    if (body[i] === "-") {
      i++;
      out += "-" + item();
    }
  }
  return out + "]";
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? "\\" + ch : ch;
}

function escapeClassChar(ch: string): string {
  return /[\\\]^[-]/.test(ch) ? "\\" + ch : ch;
}

function badPattern(pattern: string, cause?: unknown): GantryError {
  return new GantryError("InvalidArgument", `Invalid pattern ${JSON.stringify(pattern)}: syntax error in pattern.`,
    { cause });
}

/** Throws InvalidArgument when Go's `filepath.Match` would reject the pattern. */
function validateGlob(pattern: string, raw: string): void {
  try {
    matchGlob(pattern, ".");
  } catch (err) {
    throw badPattern(raw, err);
  }
}

/**
 * Go's `filepath.Match` on slash paths: `*` and `?` never match `/`, `[...]`/`[^...]` classes with
 * ranges, `\` escapes. The whole name must match. Throws InvalidArgument for a malformed pattern, even
 * when the name does not match.
 */
export function matchGlob(pattern: string, name: string): boolean {
  let pat = Array.from(pattern);
  let s = Array.from(name);
  while (pat.length > 0) {
    const chunk = scanChunk(pat);
    pat = chunk.rest;
    if (chunk.star && chunk.chunk.length === 0) return !s.includes("/");
    const direct = matchChunk(chunk.chunk, s);
    if (direct !== null && (direct.length === 0 || pat.length > 0)) {
      s = direct;
      continue;
    }
    let advanced = false;
    if (chunk.star) {
      for (let i = 0; i < s.length && s[i] !== "/"; i++) {
        const t = matchChunk(chunk.chunk, s.slice(i + 1));
        if (t !== null) {
          if (pat.length === 0 && t.length > 0) continue;
          s = t;
          advanced = true;
          break;
        }
      }
    }
    if (advanced) continue;
    // Before answering "no", make sure the rest of the pattern is well-formed.
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return s.length === 0;
}

function scanChunk(pat: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let star = false;
  let start = 0;
  while (start < pat.length && pat[start] === "*") {
    start++;
    star = true;
  }
  let inRange = false;
  let i = start;
  for (; i < pat.length; i++) {
    const c = pat[i];
    if (c === "\\") {
      if (i + 1 < pat.length) i++;
    } else if (c === "[") inRange = true;
    else if (c === "]") inRange = false;
    else if (c === "*" && !inRange) break;
  }
  return { star, chunk: pat.slice(start, i), rest: pat.slice(i) };
}

/** Matches one star-free chunk at the start of `s`: the remainder, or null. Validates the whole chunk. */
function matchChunk(chunk: string[], s: string[]): string[] | null {
  let failed = false;
  let c = 0;
  let k = 0;
  while (c < chunk.length) {
    if (!failed && k >= s.length) failed = true;
    const ch = chunk[c];
    if (ch === "[") {
      const r = failed ? -1 : s[k++].codePointAt(0)!;
      c++;
      let negated = false;
      if (chunk[c] === "^") {
        negated = true;
        c++;
      }
      let hit = false;
      for (let ranges = 0; ; ranges++) {
        if (chunk[c] === "]" && ranges > 0) {
          c++;
          break;
        }
        const lo = classChar(chunk, c);
        let hi = lo;
        c = lo.next;
        if (chunk[c] === "-") {
          hi = classChar(chunk, c + 1);
          c = hi.next;
        }
        if (!failed && lo.cp <= r && r <= hi.cp) hit = true;
      }
      if (hit === negated) failed = true;
    } else if (ch === "?") {
      if (!failed) {
        if (s[k] === "/") failed = true;
        k++;
      }
      c++;
    } else {
      if (ch === "\\") {
        c++;
        if (c >= chunk.length) throw new GantryError("InvalidArgument", "syntax error in pattern");
      }
      if (!failed && chunk[c] !== s[k]) failed = true;
      k++;
      c++;
    }
  }
  return failed ? null : s.slice(k);
}

/** One (possibly escaped) class character; a class may not start an item with `-` or `]` or end early. */
function classChar(chunk: string[], at: number): { cp: number; next: number } {
  let i = at;
  if (i >= chunk.length || chunk[i] === "-" || chunk[i] === "]") {
    throw new GantryError("InvalidArgument", "syntax error in pattern");
  }
  if (chunk[i] === "\\") {
    i++;
    if (i >= chunk.length) throw new GantryError("InvalidArgument", "syntax error in pattern");
  }
  if (i + 1 >= chunk.length) throw new GantryError("InvalidArgument", "syntax error in pattern");
  return { cp: chunk[i].codePointAt(0)!, next: i + 1 };
}

/**
 * Reads a `.dockerignore` file into patterns: a UTF-8 BOM is dropped, lines starting with `#` are
 * comments, whitespace is trimmed, blank lines dropped, paths cleaned and made relative; a `!` prefix is
 * kept (a bare `!` too: the matcher rejects it later).
 */
export function readDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    let l = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (i === 0 && l.startsWith("\uFEFF")) l = l.slice(1);
    if (l.startsWith("#")) return;
    let pattern = goTrimSpace(l);
    if (pattern === "") return;
    const invert = pattern[0] === "!";
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern[0] === "/") pattern = pattern.slice(1);
    }
    out.push(invert ? "!" + pattern : pattern);
  });
  return out;
}

/** Go's `path.Clean`: like posix.normalize but without a trailing slash. */
function goClean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

// Go's unicode.IsSpace set (JS's trim() also strips U+FEFF, which Go keeps).
const GO_SPACE = "[\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, "gu");

function goTrimSpace(s: string): string {
  return s.replace(GO_TRIM, "");
}
