// The display state both printers share: vertices by digest in first-seen order, their statuses and logs.
import type { ProgressEvent, StatusEvent, VertexEvent } from "../../util/progress-event.js";

export interface VertexRow {
  digest: string;
  name: string;
  started?: Date;
  completed?: Date;
  cached: boolean;
  error?: string;
  statuses: Map<string, StatusEvent>;
  /** Complete log lines, kept for the error summary and tty tail. */
  lines: string[];
  partial: string;
  warnings: string[];
}

export class VertexTable {
  readonly rows = new Map<string, VertexRow>();

  /** Applies an event; returns the row it touched. */
  apply(ev: ProgressEvent): VertexRow {
    const digest = ev.type === "vertex" ? ev.digest : ev.vertex;
    let row = this.rows.get(digest);
    if (!row) {
      row = { digest, name: ev.type === "vertex" ? ev.name : digest, cached: false, statuses: new Map(), lines: [], partial: "", warnings: [] };
      this.rows.set(digest, row);
    }
    switch (ev.type) {
      case "vertex":
        applyVertex(row, ev);
        break;
      case "status":
        row.statuses.set(ev.id, ev);
        break;
      case "log": {
        const text = row.partial + Buffer.from(ev.data).toString("utf8");
        const parts = text.split("\n");
        row.partial = parts.pop() ?? "";
        row.lines.push(...parts);
        if (row.lines.length > 200) row.lines.splice(0, row.lines.length - 200);
        break;
      }
      case "warning":
        row.warnings.push(ev.short);
        break;
    }
    return row;
  }

  counts(): { done: number; total: number } {
    let done = 0;
    for (const r of this.rows.values()) if (r.completed) done++;
    return { done, total: this.rows.size };
  }
}

function applyVertex(row: VertexRow, ev: VertexEvent): void {
  row.name = ev.name || row.name;
  if (ev.started) row.started = ev.started;
  if (ev.completed) row.completed = ev.completed;
  if (ev.cached) row.cached = true;
  if (ev.error) row.error = ev.error;
}

/** Seconds between two dates, for "DONE 1.2s" and the tty's right column. */
export function seconds(from: Date | undefined, to: Date | undefined): number {
  if (!from || !to) return 0;
  return Math.max(0, (to.getTime() - from.getTime()) / 1000);
}

/** Sizes as buildctl prints them: `77B`, `1.05MB`. */
export function humanBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n}B` : `${v.toFixed(2)}${units[i]}`;
}
