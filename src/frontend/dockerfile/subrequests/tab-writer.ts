// Aligned columns as Go's text/tabwriter writes them with minwidth 0, tabwidth 0, pad character ' ' and
// no flags: every cell but a row's last is padded to its column's widest cell plus `padding`.

/**
 * Formats `rows` (cells in order; the last cell of a row is not aligned) into lines ending in "\n".
 * Widths count characters (Go counts runes), so non-ASCII text lines up as upstream's does.
 */
export function formatColumns(rows: readonly (readonly string[])[], padding: number): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  let out = "";
  for (const row of rows) {
    const cells = row.map((cell, i) => (i < row.length - 1 ? cell + " ".repeat(widths[i] + padding - [...cell].length) : cell));
    out += `${cells.join("")}\n`;
  }
  return out;
}
