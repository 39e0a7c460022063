// Builders for progress events in the printers' tests: times are offsets in seconds from a fixed start.
import type { LogEvent, StatusEvent, VertexEvent, WarningEvent } from "../../util/progress-event.js";

export const T0 = Date.UTC(2024, 0, 2, 3, 4, 5);

/** The fixed start plus `s` seconds. */
export function at(s: number): Date {
  return new Date(T0 + Math.round(s * 1000));
}

/** A vertex event; `started`/`completed` are offsets in seconds. */
export function vtx(
  digest: string, name: string, o: { started?: number; completed?: number; cached?: boolean; error?: string; inputs?: string[] } = {},
): VertexEvent {
  return {
    type: "vertex", digest, name, inputs: o.inputs ?? [],
    ...(o.started !== undefined ? { started: at(o.started) } : {}),
    ...(o.completed !== undefined ? { completed: at(o.completed) } : {}),
    ...(o.cached ? { cached: true } : {}),
    ...(o.error ? { error: o.error } : {}),
  };
}

/** A log chunk written at offset `t`. */
export function log(vertex: string, t: number, text: string, stream: 1 | 2 = 1): LogEvent {
  return { type: "log", vertex, stream, data: Buffer.from(text), timestamp: at(t) };
}

/** A status update at offset `t`, started at `started`, completed when `done`. */
export function status(
  vertex: string, id: string, o: { t: number; started?: number; current: number; total: number; done?: boolean },
): StatusEvent {
  return {
    type: "status", vertex, id, current: o.current, total: o.total, timestamp: at(o.t),
    ...(o.started !== undefined ? { started: at(o.started) } : {}),
    ...(o.done ? { completed: at(o.t) } : {}),
  };
}

/** A warning. */
export function warning(vertex: string, short: string): WarningEvent {
  return { type: "warning", vertex, level: 1, short, detail: [] };
}

/** A stream stand-in that records what is written. */
export class CapturingStream {
  text = "";
  columns = 80;
  rows = 24;
  isTTY = true;

  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }
}
