// buildctl's tty display: redraws `[+] Building 1.4s (5/5)` and one ` => name  0.3s` line per started
// vertex in place, with the last lines of running steps' output shown faint beneath them.
import type { ProgressEvent } from "../../util/progress-event.js";
import type { ProgressPrinter } from "./progress-printer.js";
import { humanBytes, seconds, VertexTable, type VertexRow } from "./vertex-table.js";

const TAIL_LINES = 6;

export class TtyPrinter implements ProgressPrinter {
  readonly #out: NodeJS.WriteStream;
  readonly #table = new VertexTable();
  readonly #start = Date.now();
  readonly #timer: NodeJS.Timeout;
  readonly #color: boolean;
  #drawnLines = 0;
  #finished = false;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
    this.#color = !process.env.NO_COLOR;
    this.#timer = setInterval(() => this.#draw(), 120);
    this.#timer.unref();
  }

  get table(): VertexTable {
    return this.#table;
  }

  write(ev: ProgressEvent): void {
    this.#table.apply(ev);
  }

  finish(): void {
    clearInterval(this.#timer);
    this.#finished = true;
    this.#draw();
  }

  #draw(): void {
    const width = Math.max(40, this.#out.columns ?? 80);
    const { done, total } = this.#table.counts();
    const elapsed = ((Date.now() - this.#start) / 1000).toFixed(1);
    const lines = [`[+] Building ${elapsed}s (${done}/${total})${this.#finished ? " FINISHED" : ""}`];
    for (const row of this.#table.rows.values()) {
      if (!row.started && !row.cached) continue;
      lines.push(this.#paint(row, fit(` => ${prefix(row)}${row.name}`, rowTime(row), width)));
      for (const st of row.statuses.values()) {
        const size = st.total > 0 ? ` ${humanBytes(st.current)} / ${humanBytes(st.total)}` : st.current > 0 ? ` ${humanBytes(st.current)}` : "";
        lines.push(fit(` => => ${st.id}${size}${st.completed ? " done" : ""}`, "", width));
      }
      for (const w of row.warnings) lines.push(this.#yellow(fit(` => => WARN: ${w}`, "", width)));
      if (!row.completed && !this.#finished) {
        for (const l of row.lines.slice(-TAIL_LINES)) lines.push(this.#faint(fit(` => => # ${l}`, "", width)));
      }
    }
    let frame = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}A` : "";
    for (const l of lines) frame += `\x1b[2K${l}\n`;
    this.#out.write(frame);
    this.#drawnLines = lines.length;
  }

  #paint(row: VertexRow, text: string): string {
    if (!this.#color || !row.completed) return text;
    const code = row.error ? (/cancel/i.test(row.error) ? 33 : 31) : 34;
    return `\x1b[${code}m${text}\x1b[0m`;
  }

  #faint(text: string): string {
    return this.#color ? `\x1b[2m${text}\x1b[0m` : text;
  }

  #yellow(text: string): string {
    return this.#color ? `\x1b[33m${text}\x1b[0m` : text;
  }
}

function prefix(row: VertexRow): string {
  if (row.error) return /cancel/i.test(row.error) ? "CANCELED " : "ERROR ";
  return row.cached ? "CACHED " : "";
}

function rowTime(row: VertexRow): string {
  const s = seconds(row.started, row.completed ?? new Date());
  return `${s < 0.05 ? "0.0" : s.toFixed(1)}s`;
}

/** Left text and right-aligned time on one line of the terminal's width, truncating the left part. */
function fit(left: string, right: string, width: number): string {
  const room = width - right.length - 1;
  const l = left.length > room ? left.slice(0, Math.max(0, room - 3)) + "..." : left;
  return right ? l + " ".repeat(Math.max(1, width - l.length - right.length)) + right : l;
}
