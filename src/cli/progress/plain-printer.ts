// buildctl's --progress=plain: a `#N name` header whenever output moves to another vertex, then its lines
// (`#N 0.214 log line`, `#N sha256:… 1.05MB / 3.37MB 0.3s done`, `#N WARN: …`) and one closing line
// (`#N DONE 1.2s`, `#N CACHED`, `#N ERROR: …`, `#N CANCELED`). Leaving an unfinished vertex prints `#N ...`.
// Events are printed as they arrive, except a vertex's closing line: upstream's daemon reports one vertex
// as several runs (an image source resolves, pulls and extracts as separate started/completed pairs, a
// local source completes at once then starts its transfer), and buildctl, which redraws at most every
// 100 ms, shows such a burst as one block. So the closing line waits CLOSE_DELAY_MS and is dropped if the
// vertex starts again meanwhile. Upstream's anti-flicker scheduling between busy vertices is not copied.
import type { ProgressEvent, StatusEvent } from "../../util/progress-event.js";
import { goFixed } from "./go-fixed.js";
import { humanBytes } from "./human-bytes.js";
import type { ProgressPrinter } from "./progress-printer.js";
import { runSeconds, seconds, VertexTable, type VertexRow } from "./vertex-table.js";

/** An unfinished status is reprinted only after this much progress or time. */
const MIN_PROGRESS_DELTA = 0.05;
const MIN_TIME_DELTA_MS = 5000;
/** How long a completed vertex may start again and continue its block (buildctl's display interval). */
const CLOSE_DELAY_MS = 100;

export class PlainPrinter implements ProgressPrinter {
  readonly #out: NodeJS.WritableStream;
  readonly #table = new VertexTable();
  readonly #index = new Map<string, number>();
  /** Last printed counters per status ID, for rate limiting. */
  readonly #lastStatus = new Map<string, { current: number; timestamp: number }>();
  readonly #truncate: boolean;
  #current: string | undefined;
  /** The current vertex has completed; its closing line is due unless it starts again. */
  #closing = false;
  #closeTimer: NodeJS.Timeout | undefined;
  #printedAny = false;

  /**
   * Prints to `out` (buildctl writes progress to stderr). Names are cut to 72 characters when
   * `truncateNames` is set; it defaults to buildctl's `PROGRESS_NO_TRUNC=0`.
   */
  constructor(out: NodeJS.WritableStream, opts: { truncateNames?: boolean } = {}) {
    this.#out = out;
    this.#truncate = opts.truncateNames ?? process.env.PROGRESS_NO_TRUNC === "0";
  }

  get table(): VertexTable {
    return this.#table;
  }

  write(ev: ProgressEvent): void {
    const { row, changed, newLines } = this.#table.apply(ev);
    if (this.#closing && row.digest === this.#current && !row.completed) this.#closing = false; // a new run
    switch (ev.type) {
      case "vertex":
        if (!ev.started || !changed) return;
        if (row.completed) {
          this.#switchTo(row);
          for (const l of newLines) this.#line(row, l);
          this.#closing = true;
          this.#armClose();
        } else if (this.#current === undefined || this.#closing) this.#switchTo(row);
        return;
      case "status":
        this.#status(row, ev);
        return;
      case "log":
        this.#switchTo(row);
        for (const l of newLines) this.#line(row, l);
        return;
      case "warning":
        this.#switchTo(row);
        this.#line(row, `WARN: ${ev.short}`);
        return;
    }
  }

  /** Prints what is still due when the build ended: a pending closing line, then unfinished lines. */
  finish(): void {
    this.#closeCurrent();
    for (const row of this.#table.rows.values()) {
      if (row.partial) this.#line(row, `${row.partialTime} ${row.partial}`);
    }
  }

  #armClose(): void {
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(() => {
      if (this.#closeCurrent()) this.#activateOpen();
    }, CLOSE_DELAY_MS);
    this.#closeTimer.unref();
  }

  /** Prints the current vertex's pending closing line; true if there was one. */
  #closeCurrent(): boolean {
    clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    const row = this.#current === undefined ? undefined : this.#table.rows.get(this.#current);
    if (!this.#closing || !row) return false;
    this.#closing = false;
    this.#current = undefined;
    this.#line(row, closing(row));
    return true;
  }

  #status(row: VertexRow, st: StatusEvent): void {
    if (!st.started) return;
    const last = this.#lastStatus.get(st.id);
    if (last && !st.completed) {
      const progress = st.total > 0 ? (st.current - last.current) / st.total : 0;
      if (progress < MIN_PROGRESS_DELTA && st.timestamp.getTime() - last.timestamp < MIN_TIME_DELTA_MS) return;
    }
    this.#lastStatus.set(st.id, { current: st.current, timestamp: st.timestamp.getTime() });
    const size = st.total !== 0 ? ` ${humanBytes(st.current)} / ${humanBytes(st.total)}` : st.current !== 0 ? ` ${humanBytes(st.current)}` : "";
    const took = seconds(st.started, st.completed ?? st.timestamp);
    const time = took > 0.01 ? ` ${goFixed(took, 1)}s` : "";
    this.#switchTo(row);
    this.#line(row, `${st.id}${size}${time}${st.completed ? " done" : ""}`);
  }

  /** With nothing current, output moves to a vertex still running, as buildctl's does. */
  #activateOpen(): void {
    const open = this.#table.startOrder.find((r) => !r.completed);
    if (open) this.#switchTo(open);
  }

  #switchTo(row: VertexRow): void {
    if (this.#current === row.digest) return;
    this.#closeCurrent();
    const prev = this.#current === undefined ? undefined : this.#table.rows.get(this.#current);
    if (prev) {
      if (prev.partial) this.#line(prev, `${prev.partialTime} ${prev.partial}`);
      this.#line(prev, "...");
    }
    if (this.#printedAny) this.#out.write("\n");
    this.#current = row.digest;
    this.#line(row, this.#truncate && row.name.length > 72 ? `${row.name.slice(0, 72)}...` : row.name);
  }

  #line(row: VertexRow, text: string): void {
    let n = this.#index.get(row.digest);
    if (n === undefined) {
      n = this.#index.size + 1;
      this.#index.set(row.digest, n);
    }
    this.#printedAny = true;
    this.#out.write(`#${n} ${text}\n`);
  }
}

/** The line that closes a finished vertex's block. */
function closing(row: VertexRow): string {
  if (row.error) return row.error.endsWith("context canceled") ? "CANCELED" : `ERROR: ${row.error}`;
  if (row.cached) return "CACHED";
  const took = runSeconds(row, row.completed ?? new Date());
  return row.intervals.size > 0 ? `DONE ${goFixed(took, 1)}s` : "DONE";
}
