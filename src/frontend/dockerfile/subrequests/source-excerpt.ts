// The lines of a source around some ranges, marked, as upstream prints a source with an error or a lint
// warning (errdefs.Source.Print):
//   Dockerfile:3
//   --------------------
//      2 |     FROM busybox
//      3 | >>> run true
//   --------------------

import type { SourceRange } from "../../../util/errors.js";

/**
 * The excerpt of `data` (the file named `filename`) around `ranges`: two lines of context each side of a
 * one-line range, one for longer ones. "" when there are no ranges or they fall outside the file.
 */
export function formatSourceExcerpt(filename: string, data: string, ranges: readonly SourceRange[]): string {
  if (ranges.length === 0) return "";
  const lines = data.split("\n");
  let start = Math.min(...ranges.map((r) => r.start.line));
  let end = Math.max(...ranges.map((r) => Math.max(r.start.line, r.end.line)));
  if (start > lines.length || start < 1) return "";
  end = Math.min(end, lines.length);
  const firstLine = start;
  // Upstream's padding loop: each round widens by one line on each side it can and counts an extra step.
  const pad = end === start ? 4 : 2;
  for (let p = 0; p < pad; p++) {
    if (start > 1) {
      start--;
      p++;
    }
    if (end !== lines.length) {
      end++;
      p++;
    }
  }
  let out = `${filename}:${firstLine}\n--------------------\n`;
  for (let i = start; i <= end; i++) {
    const marked = ranges.some((r) => r.start.line <= i && Math.max(r.start.line, r.end.line) >= i);
    out += ` ${String(i).padStart(3)} | ${marked ? ">>>" : "   "} ${lines[i - 1]}\n`;
  }
  return `${out}--------------------\n`;
}
