// After a failed build, buildctl prints each failed step's last output lines between dashes, with the
// time prefixes the plain display gave them.
import type { VertexTable } from "./vertex-table.js";

/** The `------ / > name: / lines / ------` blocks for every failed (not canceled) vertex, in start order. */
export function errorSummary(table: VertexTable, maxLines = 10): string {
  let out = "";
  for (const row of table.startOrder) {
    if (!row.error || row.error.endsWith("context canceled")) continue;
    const lines = [...row.timedLines, ...(row.partial ? [`${row.partialTime} ${row.partial}`] : [])].slice(-maxLines);
    out += `------\n > ${row.name}:\n${lines.map((l) => `${l}\n`).join("")}------\n`;
  }
  return out;
}
