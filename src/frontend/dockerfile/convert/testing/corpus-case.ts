// Reading a case of the differential corpus (shared/conformance/dockerfile-diff/cases/<name>/).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The frontend attrs a case's `opts` file gives (`--opt k=v` per line); none without the file. */
export function caseAttrs(dir: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  if (!existsSync(join(dir, "opts"))) return attrs;
  for (const line of readFileSync(join(dir, "opts"), "utf8").split("\n")) {
    const m = /^--opt ([^=\s]+)=(.*)$/.exec(line.trim());
    if (m) attrs[m[1]] = m[2];
  }
  return attrs;
}
