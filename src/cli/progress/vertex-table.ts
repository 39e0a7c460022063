// The display state every printer shares: vertices by digest in first-seen order, their run intervals,
// statuses and logs, kept the way buildctl's progressui trace keeps them.
import type { LogEvent, ProgressEvent, StatusEvent, VertexEvent } from "../../util/progress-event.js";
import { goFixed } from "./go-fixed.js";

// Kept for disk-commands.ts, which imported it from here before human-bytes.ts existed.
export { humanBytes } from "./human-bytes.js";

/** Lines kept per vertex for the error summary and the tty tail. */
const KEEP_LINES = 200;

export interface Interval {
  start: Date;
  stop?: Date;
}

export interface VertexRow {
  digest: string;
  name: string;
  inputs: string[];
  /** The state of the vertex's latest run (a re-run replaces it, as upstream does). */
  started?: Date;
  completed?: Date;
  cached: boolean;
  error?: string;
  /** Every run, keyed by start time in ms; their union is the vertex's duration. */
  intervals: Map<number, Interval>;
  statuses: Map<string, StatusEvent>;
  /** Complete log lines as written, for the tty tail. */
  lines: string[];
  /** The same lines prefixed with their time since the run started (`0.123 text`), for plain output. */
  timedLines: string[];
  /** An unfinished last line and the time prefix it will carry. */
  partial: string;
  partialTime: string;
  warnings: string[];
}

/** What one event did to the table. */
export interface Applied {
  row: VertexRow;
  /** For vertex events: whether a started vertex's visible state changed (duplicates are not news). */
  changed: boolean;
  /** Timed lines completed by this event (a log, or a vertex completing with an unfinished line). */
  newLines: string[];
}

export class VertexTable {
  readonly rows = new Map<string, VertexRow>();
  /** Rows in the order they first started, as buildctl lists them. */
  readonly startOrder: VertexRow[] = [];

  /** Applies an event and reports what it changed. */
  apply(ev: ProgressEvent): Applied {
    const digest = ev.type === "vertex" ? ev.digest : ev.vertex;
    let row = this.rows.get(digest);
    if (!row) {
      row = newRow(digest, ev.type === "vertex" ? ev.name : digest);
      this.rows.set(digest, row);
    }
    const applied: Applied = { row, changed: false, newLines: [] };
    switch (ev.type) {
      case "vertex":
        if (ev.started && !row.started) this.startOrder.push(row);
        applied.changed = applyVertex(row, ev);
        if (row.completed && row.partial) applied.newLines.push(finishPartial(row));
        break;
      case "status":
        row.statuses.set(ev.id, ev);
        break;
      case "log":
        applied.newLines = applyLog(row, ev);
        break;
      case "warning":
        row.warnings.push(ev.short);
        break;
    }
    return applied;
  }

  /** Vertices completed and in total, for the tty header. */
  counts(): { done: number; total: number } {
    let done = 0;
    for (const r of this.rows.values()) if (r.completed) done++;
    return { done, total: this.rows.size };
  }
}

function newRow(digest: string, name: string): VertexRow {
  return {
    digest, name, inputs: [], cached: false, intervals: new Map(), statuses: new Map(),
    lines: [], timedLines: [], partial: "", partialTime: "", warnings: [],
  };
}

function applyVertex(row: VertexRow, ev: VertexEvent): boolean {
  if (!ev.started) {
    // An announcement before the run: it may name the vertex but must not undo a run already seen.
    if (!row.started) Object.assign(row, { name: ev.name || row.name, inputs: ev.inputs, cached: !!ev.cached, error: ev.error });
    return false;
  }
  const changed = ev.name !== row.name || ev.started.getTime() !== row.started?.getTime()
    || (!!ev.completed && ev.completed.getTime() !== row.completed?.getTime())
    || !!ev.cached !== row.cached || (ev.error || undefined) !== row.error;
  row.name = ev.name || row.name;
  row.inputs = ev.inputs;
  row.started = ev.started;
  row.completed = ev.completed;
  row.cached = !!ev.cached;
  row.error = ev.error || undefined;
  row.intervals.set(ev.started.getTime(), { start: ev.started, stop: ev.completed });
  return changed;
}

function applyLog(row: VertexRow, ev: LogEvent): string[] {
  const text = Buffer.from(ev.data).toString("utf8");
  if (text === "") return [];
  const parts = text.split("\n");
  const added: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    if (i === 0 && row.partialTime) added.push(finishPartial(row, parts[0]));
    else added.push(keepLine(row, logTime(row, ev.timestamp), parts[i]));
  }
  const last = parts[parts.length - 1];
  if (last !== "") {
    if (!row.partialTime) row.partialTime = logTime(row, ev.timestamp);
    row.partial += last;
  }
  return added;
}

/** Completes the unfinished line (with `rest` appended) under the time it began at. */
function finishPartial(row: VertexRow, rest = ""): string {
  const line = keepLine(row, row.partialTime, row.partial + rest);
  row.partial = "";
  row.partialTime = "";
  return line;
}

function keepLine(row: VertexRow, time: string, text: string): string {
  const timed = `${time} ${text}`;
  row.lines.push(text);
  row.timedLines.push(timed);
  if (row.lines.length > KEEP_LINES) row.lines.splice(0, row.lines.length - KEEP_LINES);
  if (row.timedLines.length > KEEP_LINES) row.timedLines.splice(0, row.timedLines.length - KEEP_LINES);
  return timed;
}

/** Seconds since the vertex's latest run began, with 3, 2 or 1 decimals as the number grows. */
function logTime(row: VertexRow, at: Date): string {
  const s = row.started ? (at.getTime() - row.started.getTime()) / 1000 : 0;
  return goFixed(s, s < 10 ? 3 : s < 100 ? 2 : 1);
}

/** Intervals merged where they overlap; an open interval swallows every later one. */
export function mergeIntervals(intervals: Iterable<Interval>): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start.getTime() - b.start.getTime());
  const merged: Interval[] = [];
  for (const iv of sorted) {
    const cur = merged.at(-1);
    if (!cur || (cur.stop && cur.stop.getTime() < iv.start.getTime())) {
      merged.push({ ...iv });
      continue;
    }
    if (!cur.stop) break;
    if (!iv.stop) cur.stop = undefined;
    else if (iv.stop.getTime() > cur.stop.getTime()) cur.stop = iv.stop;
  }
  return merged;
}

/** Total seconds the vertex ran (open runs count up to `now`); 0 if it never started. */
export function runSeconds(row: VertexRow, now: Date): number {
  let ms = 0;
  for (const iv of mergeIntervals(row.intervals.values())) ms += (iv.stop ?? now).getTime() - iv.start.getTime();
  return Math.max(0, ms / 1000);
}

/** Seconds between two dates, 0 if either is missing. */
export function seconds(from: Date | undefined, to: Date | undefined): number {
  if (!from || !to) return 0;
  return Math.max(0, (to.getTime() - from.getTime()) / 1000);
}
