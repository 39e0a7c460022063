// After a failed build, buildctl prints each failed step's last output lines between dashes.
import type { VertexTable } from "./vertex-table.js";

export function errorSummary(table: VertexTable, maxLines = 10): string {
  let out = "";
  for (const row of table.rows.values()) {
    if (!row.error || /context canceled/.test(row.error)) continue;
    const lines = [...row.lines, ...(row.partial ? [row.partial] : [])].slice(-maxLines);
    out += `------\n > ${row.name}:\n${lines.map((l) => `${l}\n`).join("")}------\n`;
  }
  return out;
}
