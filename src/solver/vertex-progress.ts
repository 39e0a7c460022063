// The progress handle an op gets: it stamps events with the vertex id and time, remembers when each
// status line started, and hands them to `emit`, which fans them out to every job sharing the vertex.
import type { ProgressEvent, VertexProgress } from "./progress.js";

/** Creates the `VertexProgress` of vertex `digest`; `emit` must not throw and must return quickly. */
export function createVertexProgress(digest: string, emit: (event: ProgressEvent) => void): VertexProgress {
  // Per status line: when it started and its last counters, so `statusDone()` without numbers keeps them.
  const lines = new Map<string, { started: Date; current: number; total: number }>();

  function status(id: string, current: number | undefined, total: number | undefined, done: boolean): void {
    const now = new Date();
    const line = lines.get(id) ?? { started: now, current: 0, total: 0 };
    line.current = current ?? line.current;
    line.total = total ?? line.total;
    lines.set(id, line);
    emit({
      type: "status", vertex: digest, id, current: line.current, total: line.total, timestamp: now,
      started: line.started, ...(done ? { completed: now } : {}),
    });
  }

  return {
    digest,
    log(stream, data) {
      emit({ type: "log", vertex: digest, stream, data, timestamp: new Date() });
    },
    status(id, current, total) {
      status(id, current, total, false);
    },
    statusDone(id, current, total) {
      status(id, current, total, true);
    },
    warn(short, detail = []) {
      emit({ type: "warning", vertex: digest, level: 1, short, detail });
    },
  };
}
