// buildctl's --progress=rawjson: each progress update as one line of JSON shaped like Go's
// client.SolveStatus ({"vertexes":[…],"statuses":[…],"logs":[…],"warnings":[…]}), with its field names,
// field order, omitempty rules, base64 byte fields and RFC 3339 times, so tools reading buildctl's stream
// can read gantry's. Events arriving in the same tick form one update (upstream sends one per message).
import type { LogEvent, ProgressEvent, StatusEvent, VertexEvent, WarningEvent } from "../../util/progress-event.js";
import type { ProgressPrinter } from "./progress-printer.js";
import { VertexTable } from "./vertex-table.js";

interface Batch {
  vertexes: Record<string, unknown>[];
  statuses: Record<string, unknown>[];
  logs: Record<string, unknown>[];
  warnings: Record<string, unknown>[];
}

export class RawJsonPrinter implements ProgressPrinter {
  readonly #out: NodeJS.WritableStream;
  /** Stays empty: like buildctl, rawjson mode prints no human error summary after a failure. */
  readonly #table = new VertexTable();
  #batch: Batch | undefined;

  /** Writes one JSON line per update to `out` (buildctl writes it to stderr). */
  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  get table(): VertexTable {
    return this.#table;
  }

  write(ev: ProgressEvent): void {
    if (!this.#batch) {
      this.#batch = { vertexes: [], statuses: [], logs: [], warnings: [] };
      queueMicrotask(() => this.#flush());
    }
    switch (ev.type) {
      case "vertex":
        this.#batch.vertexes.push(vertexJson(ev));
        break;
      case "status":
        this.#batch.statuses.push(statusJson(ev));
        break;
      case "log":
        this.#batch.logs.push(logJson(ev));
        break;
      case "warning":
        this.#batch.warnings.push(warningJson(ev));
        break;
    }
  }

  /** Writes the pending update now. */
  finish(): void {
    this.#flush();
  }

  #flush(): void {
    const b = this.#batch;
    if (!b) return;
    this.#batch = undefined;
    this.#out.write(`${solveStatusJson(b)}\n`);
  }
}

/** A batch as Go's json.Encoder writes a client.SolveStatus (empty lists omitted, HTML-safe). */
function solveStatusJson(b: Batch): string {
  const obj = omitEmpty({ vertexes: b.vertexes, statuses: b.statuses, logs: b.logs, warnings: b.warnings });
  return JSON.stringify(obj).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function vertexJson(v: VertexEvent): Record<string, unknown> {
  const group = v.progressGroup ? omitEmpty({ id: v.progressGroup.id, name: v.progressGroup.name, weak: v.progressGroup.weak }) : undefined;
  return omitEmpty({
    digest: v.digest, inputs: v.inputs, name: v.name, started: goTime(v.started), completed: goTime(v.completed),
    cached: v.cached, error: v.error, progressGroup: group,
  });
}

function statusJson(s: StatusEvent): Record<string, unknown> {
  return {
    id: s.id,
    ...omitEmpty({ vertex: s.vertex, name: s.name, total: s.total }),
    current: s.current,
    timestamp: goTime(s.timestamp),
    ...omitEmpty({ started: goTime(s.started), completed: goTime(s.completed) }),
  };
}

function logJson(l: LogEvent): Record<string, unknown> {
  return { ...omitEmpty({ vertex: l.vertex, stream: l.stream }), data: Buffer.from(l.data).toString("base64"), timestamp: goTime(l.timestamp) };
}

function warningJson(w: WarningEvent): Record<string, unknown> {
  const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");
  return omitEmpty({ vertex: w.vertex, level: w.level, short: w.short ? b64(w.short) : "", detail: w.detail.map(b64), url: w.url });
}

/** Go's `omitempty`: drops undefined, false, 0, "" and empty lists, keeping key order. */
function omitEmpty(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false || v === 0 || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

/** A time as Go's time.Time marshals in UTC: RFC 3339 with trailing fraction zeros dropped. */
function goTime(d: Date | undefined): string | undefined {
  if (!d) return undefined;
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : "Z"));
}
