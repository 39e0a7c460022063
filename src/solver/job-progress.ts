// One job's view of vertex progress. Vertices are shared between jobs, but what a client is told about
// vertices that never ran depends on its own graph, so these rules apply per job (upstream's per-Status
// vertex stream): when a vertex starts, its inputs that have not completed are reported cached; when the
// job ends, vertices still running are reported canceled unless a cached dependant made them moot.
import type { ProgressEvent, ProgressSink, VertexEvent } from "./progress.js";

/** The error text of a vertex cut off by the end of its job (upstream's `context.Canceled` text). */
export const CANCELED_VERTEX_ERROR = "context canceled";

/** Applies the per-job emission rules and forwards events to the job's sink. */
export class JobProgress {
  readonly #sink: ProgressSink;
  // The last event of each vertex this job still tracks (upstream drops inputs once reported cached).
  readonly #vertices = new Map<string, VertexEvent>();
  // Vertices below a cached vertex: they need no "canceled" mark at the end.
  readonly #wasCached = new Set<string>();
  #finished = false;

  constructor(sink: ProgressSink) {
    this.#sink = sink;
  }

  /** Records and forwards a vertex event, preceded by the inputs it implicitly marks cached. */
  vertex(event: VertexEvent): void {
    if (this.#finished) return;
    for (const out of this.#append({ ...event })) this.#sink(out);
  }

  /** Forwards a status, log or warning event. */
  other(event: ProgressEvent): void {
    if (!this.#finished) this.#sink(event);
  }

  /** Ends the stream: vertices started but not completed are completed now as canceled. Idempotent. */
  finish(): void {
    if (this.#finished) return;
    const now = new Date();
    for (const v of this.#vertices.values()) {
      if (!v.started || v.completed) continue;
      const out: VertexEvent = { ...v, completed: now };
      if (!this.#wasCached.has(v.digest) && !v.error) out.error = CANCELED_VERTEX_ERROR;
      this.#sink(out);
    }
    this.#finished = true;
  }

  #append(v: VertexEvent): VertexEvent[] {
    const out: VertexEvent[] = [];
    this.#vertices.set(v.digest, v);
    if (v.started) {
      for (const input of v.inputs) {
        const iv = this.#vertices.get(input);
        if (!iv || iv.cached || iv.completed) continue;
        out.push(...this.#append({ ...iv, cached: true, started: v.started, completed: v.started }));
        this.#vertices.delete(input);
      }
    }
    if (v.cached) this.#markCached(v.digest);
    out.push({ ...v });
    return out;
  }

  #markCached(digest: string): void {
    const v = this.#vertices.get(digest);
    if (!v) return;
    if (!this.#wasCached.has(digest)) for (const input of v.inputs) this.#markCached(input);
    this.#wasCached.add(digest);
  }
}
