// buildctl's --progress=plain: `#N name`, `#N 0.214 log line`, `#N DONE 1.2s`, one block per vertex.
import type { ProgressEvent } from "../../util/progress-event.js";
import { humanBytes, seconds, VertexTable, type VertexRow } from "./vertex-table.js";
import type { ProgressPrinter } from "./progress-printer.js";

export class PlainPrinter implements ProgressPrinter {
  readonly #out: NodeJS.WritableStream;
  readonly #table = new VertexTable();
  readonly #index = new Map<string, number>();
  #current: string | undefined;
  #printedAny = false;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  get table(): VertexTable {
    return this.#table;
  }

  write(ev: ProgressEvent): void {
    const prevLines = ev.type === "log" ? this.#table.rows.get(ev.vertex)?.lines.length ?? 0 : 0;
    const row = this.#table.apply(ev);
    switch (ev.type) {
      case "vertex":
        if (ev.completed) this.#complete(row);
        else if (ev.started) this.#switchTo(row);
        break;
      case "status": {
        this.#switchTo(row);
        const size = ev.total > 0 ? ` ${humanBytes(ev.current)} / ${humanBytes(ev.total)}` : ev.current > 0 ? ` ${humanBytes(ev.current)}` : "";
        const took = seconds(ev.started, ev.completed ?? ev.timestamp);
        const time = took > 0.01 ? ` ${took.toFixed(1)}s` : "";
        if (ev.completed) this.#line(row, `${ev.id}${size}${time} done`);
        break;
      }
      case "log":
        this.#switchTo(row);
        for (const l of row.lines.slice(prevLines)) this.#line(row, `${logTime(row, ev.timestamp)} ${l}`);
        break;
      case "warning":
        this.#switchTo(row);
        this.#line(row, `WARN: ${ev.short}`);
        break;
    }
  }

  finish(): void {
    for (const row of this.#table.rows.values()) if (row.partial) this.#line(row, row.partial);
  }

  #complete(row: VertexRow): void {
    if (row.cached && !this.#index.has(row.digest)) {
      this.#switchTo(row);
      this.#line(row, "CACHED");
      return;
    }
    this.#switchTo(row);
    if (row.partial) {
      this.#line(row, `${logTime(row, row.completed)} ${row.partial}`);
      row.partial = "";
    }
    if (row.error) this.#line(row, /context canceled|canceled/i.test(row.error) ? "CANCELED" : `ERROR: ${row.error}`);
    else if (row.cached) this.#line(row, "CACHED");
    else this.#line(row, `DONE ${seconds(row.started, row.completed).toFixed(1)}s`);
  }

  #switchTo(row: VertexRow): void {
    if (this.#current === row.digest) return;
    const prev = this.#current ? this.#table.rows.get(this.#current) : undefined;
    if (prev && !prev.completed) this.#line(prev, "...");
    if (this.#printedAny) this.#out.write("\n");
    this.#current = row.digest;
    this.#line(row, row.name);
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

function logTime(row: VertexRow, at: Date | undefined): string {
  const s = seconds(row.started, at ?? new Date());
  return s < 10 ? s.toFixed(3) : s < 100 ? s.toFixed(2) : s.toFixed(1);
}
