// Which checks run and whether they fail the build: the `# check=` directive, a `# check=` comment on one
// instruction, or the BUILDKIT_DOCKERFILE_CHECK build arg, all in the syntax
// `skip=<rule,…>|all;error=<bool>;experimental=<rule,…>|all`.

import { GantryError } from "../../../util/errors.js";
import { DirectiveParser } from "../parser/directives.js";
import { goQuote } from "../shell/go-quote.js";

/** A parsed check configuration. */
export interface CheckOptions {
  skipAll: boolean;
  skip: ReadonlySet<string>;
  experimentalAll: boolean;
  experimental: ReadonlySet<string>;
  /** Fail the build after the checks when any rule fired. */
  error: boolean;
}

/** No rule skipped, no experimental rule, warnings only. */
export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  skipAll: false, skip: new Set(), experimentalAll: false, experimental: new Set(), error: false,
};

/**
 * Parses a check configuration. Throws InvalidArgument with upstream's wording for an option without
 * `=`, an unknown option or a bad `error` value. At most three `;`-separated options are read; the third
 * keeps any further `;` in its value, as upstream.
 */
export function parseCheckOptions(text: string): CheckOptions {
  const trimmed = text.trim();
  if (trimmed === "") return DEFAULT_CHECK_OPTIONS;
  const out = { ...DEFAULT_CHECK_OPTIONS };
  for (const part of splitN(trimmed, ";", 3)) {
    const eq = part.indexOf("=");
    if (eq < 0) throw invalid(`invalid check option ${goQuote(part)}`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "skip") {
      if (value === "all") out.skipAll = true;
      else out.skip = ruleList(value);
    } else if (key === "experimental") {
      if (value === "all") out.experimentalAll = true;
      else out.experimental = ruleList(value);
    } else if (key === "error") {
      const b = parseGoBool(value);
      if (b === undefined) {
        throw invalid(`failed to parse check option ${goQuote(part)}: strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`);
      }
      out.error = b;
    } else {
      throw invalid(`invalid check option ${goQuote(key)}`);
    }
  }
  return out;
}

/** `base` with the skips and experimental rules of `extra` added; `error` stays `base`'s. */
export function mergeCheckOptions(base: CheckOptions, extra: CheckOptions): CheckOptions {
  return {
    skipAll: base.skipAll || extra.skipAll,
    skip: new Set([...base.skip, ...extra.skip]),
    experimentalAll: base.experimentalAll || extra.experimentalAll,
    experimental: new Set([...base.experimental, ...extra.experimental]),
    error: base.error,
  };
}

/**
 * The options of the first `check=…` among an instruction's comments (`#` already removed); only its
 * first word counts, so `# check=skip=X // why` works. Undefined when there is none or it does not parse
 * (a bad comment is ignored rather than failing the build, as upstream).
 */
export function checkOptionsFromComments(comments: readonly string[]): CheckOptions | undefined {
  for (const comment of comments) {
    // A fresh parser sees each comment as a first line, so it never reports a repeated directive.
    const d = new DirectiveParser({ comment: "" }).parseLine(comment);
    if (d?.name !== "check") continue;
    try {
      return parseCheckOptions(d.value.split(" ")[0]);
    } catch {
      return undefined; // upstream keeps the instruction's options unchanged
    }
  }
  return undefined;
}

function ruleList(value: string): Set<string> {
  return new Set(value.split(",").map((r) => r.trim()));
}

// Go's strconv.ParseBool.
function parseGoBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

// Go's strings.SplitN: at most n parts, the last keeps the rest.
function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function invalid(message: string): GantryError {
  return new GantryError("InvalidArgument", message);
}
