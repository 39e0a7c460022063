// Runs rules against the check options in effect and reports violations; remembers which rules fired so
// `error=true` can fail the build once every check has run.

import { GantryError, type SourceRange } from "../../../util/errors.js";
import { checkOptionsFromComments, mergeCheckOptions, type CheckOptions } from "./check-options.js";
import type { RuleInfo } from "./check-rules.js";

/** One violation, as the frontend reports it. */
export interface CheckWarning {
  rule: string;
  description: string;
  /** The rule's documentation page; "" when it has none. */
  url: string;
  /** The formatted message (upstream's "detail" in lint results). */
  message: string;
  /** One range per line of the instruction at fault. */
  location: SourceRange[];
}

/** Receives each violation as soon as it is found, so warnings before a build error still show. */
export type CheckWarnFn = (w: CheckWarning) => void;

/** A warning in the bridge's shape (`FrontendBridge.warn`). */
export interface BridgeWarning {
  short: string;
  detail: string[];
  url?: string;
  level: number;
  location?: { filename: string; line: number };
  /** The instruction's lines (upstream's WarnRequest.range). */
  ranges?: SourceRange[];
}

/** Runs rules under one set of options. Derived linters (per-instruction comments) share the fired list. */
export class Linter {
  readonly options: CheckOptions;
  readonly #warn: CheckWarnFn;
  readonly #fired: string[];

  constructor(options: CheckOptions, warn: CheckWarnFn, fired: string[] = []) {
    this.options = options;
    this.#warn = warn;
    this.#fired = fired;
  }

  /** Reports a violation of `rule` at `location` unless the options turn the rule off. */
  run(rule: RuleInfo, location: readonly SourceRange[], message: string): void {
    if (!this.isEnabled(rule)) return;
    this.#fired.push(rule.name);
    this.#warn({ rule: rule.name, description: rule.description, url: rule.url, message, location: [...location] });
  }

  /** Experimental rules need opting in and ignore `skip`; the others run unless skipped. */
  isEnabled(rule: RuleInfo): boolean {
    const o = this.options;
    if (rule.experimental) return o.experimentalAll || o.experimental.has(rule.name);
    return !o.skipAll && !o.skip.has(rule.name);
  }

  /** This linter with the `# check=` comment among `comments` (if any) merged in. */
  withComments(comments: readonly string[]): Linter {
    const extra = checkOptionsFromComments(comments);
    return extra === undefined ? this : new Linter(mergeCheckOptions(this.options, extra), this.#warn, this.#fired);
  }

  /** Rule names that fired, each once, in the order they first fired. */
  firedRules(): string[] {
    return [...new Set(this.#fired)];
  }

  /** With `error=true` and any rule fired: the InvalidArgument error that fails the build; else undefined. */
  violationError(): GantryError | undefined {
    const rules = this.firedRules();
    if (!this.options.error || rules.length === 0) return undefined;
    return new GantryError("InvalidArgument", `lint violation found for rules: ${rules.join(", ")}`);
  }
}

/** `Rule: message (line N)`, upstream's short form of a check warning. */
export function formatCheckShort(rule: string, message: string, line: number): string {
  return line > 0 ? `${rule}: ${message} (line ${line})` : `${rule}: ${message}`;
}

/** The warning as the bridge takes it: short text, the rule's description as detail, level 1. */
export function toBridgeWarning(w: CheckWarning, filename: string): BridgeWarning {
  const line = w.location[0]?.start.line ?? 0;
  return {
    short: formatCheckShort(w.rule, w.message, line),
    detail: [w.description],
    ...(w.url !== "" ? { url: w.url } : {}),
    level: 1,
    ...(line > 0 ? { location: { filename, line } } : {}),
    ...(w.location.length > 0 ? { ranges: w.location.map((r) => ({ start: { ...r.start }, end: { ...r.end } })) } : {}),
  };
}
