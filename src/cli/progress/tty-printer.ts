// buildctl's tty display: redraws `[+] Building 1.4s (5/5)` and one ` => name   0.3s` line per started
// vertex in place (statuses and warnings beneath their vertex), with the last lines of running steps'
// output shown faint when the terminal has room. The last frame is drawn in full.
import type { ProgressEvent } from "../../util/progress-event.js";
import { goFixed } from "./go-fixed.js";
import { humanBytes } from "./human-bytes.js";
import type { ProgressPrinter } from "./progress-printer.js";
import { runSeconds, VertexTable, type VertexRow } from "./vertex-table.js";

const TAIL_LINES = 6;
/** Room a vertex's output tail needs, as upstream reckons it (tail height + 3). */
const TAIL_ROOM = TAIL_LINES + 3;
const TERM_PAD = 10;
const BLUE = "\x1b[34m";
const RED = "\x1b[31m";
const YELLOW = "\x1b[33m";
const FAINT = "\x1b[2m";
const RESET = "\x1b[0m";

export interface TtyPrinterOptions {
  /** Clock in ms (tests pin it). */
  now?: () => number;
  /** Colors for finished lines; defaults to on unless NO_COLOR is set. */
  color?: boolean;
  /** Redraw period; defaults to TTY_DISPLAY_RATE or 120 ms. */
  refreshMs?: number;
}

/** One line of the frame: a vertex, one of its statuses, or a warning. */
interface Job {
  name: string;
  status: string;
  seconds: number;
  completed: boolean;
  color?: string;
  /** The vertex, for vertex lines only. */
  row?: VertexRow;
  tail?: string[];
}

export class TtyPrinter implements ProgressPrinter {
  readonly #out: NodeJS.WriteStream;
  readonly #table = new VertexTable();
  readonly #now: () => number;
  readonly #color: boolean;
  readonly #timer: NodeJS.Timeout;
  /** Local time minus daemon time, fixed when the first vertex starts. */
  #clockDiff: number | undefined;
  #startedAt: number | undefined;
  #drawnLines = 0;

  /** Draws on `out`, a terminal: its `columns` and `rows` size the frame. */
  constructor(out: NodeJS.WriteStream, opts: TtyPrinterOptions = {}) {
    this.#out = out;
    this.#now = opts.now ?? Date.now;
    this.#color = opts.color ?? !process.env.NO_COLOR;
    const rate = Number(process.env.TTY_DISPLAY_RATE);
    this.#timer = setInterval(() => this.#draw(false), opts.refreshMs ?? (rate > 0 ? rate : 120));
    this.#timer.unref();
  }

  get table(): VertexTable {
    return this.#table;
  }

  write(ev: ProgressEvent): void {
    if (ev.type === "vertex" && ev.started && this.#clockDiff === undefined) {
      this.#startedAt = this.#now();
      this.#clockDiff = this.#startedAt - ev.started.getTime();
    }
    this.#table.apply(ev);
  }

  finish(): void {
    clearInterval(this.#timer);
    this.#draw(true);
  }

  #draw(final: boolean): void {
    const width = this.#out.columns > 0 ? this.#out.columns : 80;
    const height = this.#out.rows > 0 ? this.#out.rows : 10;
    const { done, total } = this.#table.counts();
    const elapsed = this.#startedAt === undefined ? 0 : (this.#now() - this.#startedAt) / 1000;
    const finished = final && done > 0 && done === total ? "FINISHED" : "";
    const header = `[+] Building ${goFixed(elapsed, 1)}s (${done}/${total}) ${finished}`.padEnd(width).slice(0, width);
    let jobs = this.#jobs(final, height);
    if (!final && jobs.length > height - 2) jobs = jobs.slice(jobs.length - Math.max(0, height - 2));
    const lines = [header];
    for (const j of jobs) {
      const line = formatJob(j, width);
      if (line === undefined) continue;
      lines.push(j.completed && j.color && this.#color ? `${j.color}${line}${RESET}` : line);
      for (const t of j.tail ?? []) lines.push(`${FAINT} => => # ${t.slice(0, width - TERM_PAD)}${RESET}`);
    }
    let frame = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}A\r` : "";
    for (const l of lines) frame += `\x1b[2K${l}\n`;
    if (lines.length < this.#drawnLines) frame += "\x1b[J";
    this.#out.write(frame);
    this.#drawnLines = lines.length;
  }

  #jobs(final: boolean, height: number): Job[] {
    const now = new Date(this.#now() - (this.#clockDiff ?? 0));
    const jobs: Job[] = [];
    for (const row of this.#table.startOrder) {
      jobs.push({ name: rowName(row), status: "", seconds: runSeconds(row, now), completed: !!row.completed, color: rowColor(row), row });
      for (const st of row.statuses.values()) {
        const status = st.total !== 0 ? `${humanBytes(st.current)} / ${humanBytes(st.total)}` : st.current !== 0 ? humanBytes(st.current) : "";
        const took = st.started ? ((st.completed ?? now).getTime() - st.started.getTime()) / 1000 : 0;
        jobs.push({ name: `=> ${st.id}`, status, seconds: took, completed: !!st.completed, color: BLUE });
      }
      for (const w of row.warnings) {
        jobs.push({ name: `WARN: ${w}`, status: "", seconds: runSeconds(row, now), completed: false });
      }
    }
    if (!final) addTails(jobs, height);
    return jobs;
  }
}

/** Gives running vertices with output a faint tail while the terminal has room for it. */
function addTails(jobs: Job[], height: number): void {
  let free = height - 2 - jobs.filter((j) => !j.completed).length;
  for (const j of jobs) {
    if (free <= TAIL_ROOM) break;
    if (j.completed || !j.row || j.row.lines.length === 0) continue;
    j.tail = j.row.lines.slice(-TAIL_LINES);
    free -= TAIL_ROOM;
  }
}

function rowName(row: VertexRow): string {
  let name = row.name.replaceAll("\t", " ");
  if (row.error) name = (row.error.endsWith("context canceled") ? "CANCELED " : "ERROR ") + name;
  return row.cached ? `CACHED ${name}` : name;
}

function rowColor(row: VertexRow): string {
  if (!row.error) return BLUE;
  return row.error.endsWith("context canceled") ? YELLOW : RED;
}

/** ` => name[ status]` padded so ` 1.2s` ends one column before the edge; undefined when too narrow. */
function formatJob(j: Job, width: number): string | undefined {
  const secs = j.seconds < 0.05 ? 0 : j.seconds;
  const timer = ` ${goFixed(secs, 1).padStart(3)}s`;
  // Upstream counts the timer's newline too, hence the extra 1.
  let left = width - 4 - (timer.length + 1) - 1;
  let showStatus = false;
  if (j.status && left + j.status.length > 20) {
    showStatus = true;
    left -= j.status.length + 1;
  }
  if (left < 12) return undefined;
  const text = ` => ${j.name.slice(0, left)}${showStatus ? ` ${j.status}` : ""}`;
  return `${text.padEnd(width - (timer.length + 1) - 1)} ${timer}`;
}
