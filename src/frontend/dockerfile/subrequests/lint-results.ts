// The `frontend.lint` answer (upstream's lint.LintResults): the check violations, the sources they point
// into and the error that stopped the conversion, as JSON and as the text `docker build --check` prints.

import type { SourceRange } from "../../../util/errors.js";
import type { CheckWarning } from "../checks/linter.js";
import { RESULT_STATUS_CODE } from "./keys.js";
import { goBytes } from "./marshal-indent.js";
import { fromPbLocation, toPbLocation, type PbLocation } from "./pb-location.js";
import { resultMetadata } from "./result-metadata.js";
import { formatSourceExcerpt } from "./source-excerpt.js";

/** The lint result format's version. */
export const LINT_VERSION = "1.0.0";

/** One violation in the answer. */
export interface LintWarning {
  ruleName: string;
  description?: string;
  url?: string;
  detail?: string;
  location?: PbLocation;
}

/** A source file the locations index into (pb.SourceInfo; its LLB definition is left out). */
export interface LintSource {
  filename: string;
  /** The file's content, base64 as Go writes bytes. */
  data: string;
  language: string;
}

/** The error that stopped the conversion, such as `lint violation found for rules: …`. */
export interface LintBuildError {
  message: string;
  location: PbLocation;
}

/** The whole answer; `warnings` is null when there are none, as upstream's nil slice marshals. */
export interface LintResults {
  warnings: LintWarning[] | null;
  sources: LintSource[];
  buildError?: LintBuildError;
}

/** An empty answer for one Dockerfile (source 0). */
export function createLintResults(filename: string, dockerfile: Uint8Array | string): LintResults {
  return { warnings: null, sources: [{ filename, data: goBytes(dockerfile), language: "Dockerfile" }] };
}

/** Adds a violation found in source 0. */
export function addLintWarning(results: LintResults, w: CheckWarning): void {
  const warning: LintWarning = { ruleName: w.rule };
  if (w.description !== "") warning.description = w.description;
  if (w.url !== "") warning.url = w.url;
  if (w.message !== "") warning.detail = w.message;
  warning.location = toPbLocation(w.location);
  (results.warnings ??= []).push(warning);
}

/** Records the error that ended the conversion, with its Dockerfile lines when it has them. */
export function setLintBuildError(results: LintResults, message: string, ranges: readonly SourceRange[]): void {
  results.buildError = { message, location: toPbLocation(ranges) };
}

/**
 * The answer as result metadata: `result.json`, `result.txt`, `result.statuscode` ("1" when there is any
 * violation or error, as upstream) and `version`.
 */
export function lintResultMetadata(results: LintResults): Record<string, Uint8Array> {
  const failed = (results.warnings ?? []).length > 0 || results.buildError !== undefined;
  return resultMetadata(results, printLintViolations(results), LINT_VERSION, { [RESULT_STATUS_CODE]: failed ? "1" : "0" });
}

/**
 * The violations as text, in source then line order, each with the source lines it points at
 * (upstream's PrintLintViolations). The build error is not part of it, as upstream.
 */
export function printLintViolations(results: LintResults): string {
  const sorted = [...(results.warnings ?? [])].sort((a, b) => compareWarnings(a, b, results.sources));
  let out = "";
  for (const w of sorted) {
    out += `\nWARNING: ${w.ruleName}${w.url ? ` - ${w.url}` : ""}\n${w.detail ?? ""}\n`;
    const source = results.sources[w.location?.sourceIndex ?? 0];
    if (source === undefined) continue;
    out += formatSourceExcerpt(source.filename, Buffer.from(source.data, "base64").toString("utf8"), fromPbLocation(w.location));
  }
  return out;
}

/** The build error as text with its source lines, in the warnings' style (upstream's PrintErrorTo). */
export function printLintError(results: LintResults): string {
  const e = results.buildError;
  if (e === undefined) return "";
  const source = results.sources[e.location.sourceIndex ?? 0];
  const excerpt = source === undefined ? ""
    : formatSourceExcerpt(source.filename, Buffer.from(source.data, "base64").toString("utf8"), fromPbLocation(e.location));
  return `${e.message}\n${excerpt}`;
}

function compareWarnings(a: LintWarning, b: LintWarning, sources: readonly LintSource[]): number {
  const fa = sources[a.location?.sourceIndex ?? 0]?.filename ?? "";
  const fb = sources[b.location?.sourceIndex ?? 0]?.filename ?? "";
  if (fa !== fb) return fa < fb ? -1 : 1;
  const ra = a.location?.ranges ?? [];
  const rb = b.location?.ranges ?? [];
  if (ra.length === 0 && rb.length === 0) return a.ruleName < b.ruleName ? -1 : a.ruleName > b.ruleName ? 1 : 0;
  if (ra.length === 0 || rb.length === 0) return ra.length === 0 ? -1 : 1;
  return (ra[0].start?.line ?? 0) - (rb[0].start?.line ?? 0);
}
