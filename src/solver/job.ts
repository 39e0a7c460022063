// A job is one `solve` call: the states its graph holds, its progress view and its cancellation. States
// are shared between jobs; a job only lets go of them, and the solver drops those no job holds any more.
import { canceledError } from "../util/errors.js";
import { JobProgress } from "./job-progress.js";
import type { ProgressEvent, ProgressSink, VertexEvent } from "./progress.js";
import type { Result, Vertex } from "./types.js";
import type { ProgressListener, VertexState } from "./vertex-state.js";

export interface JobInit<P> {
  progress: ProgressSink;
  noCache: (vertex: Vertex<P>) => boolean;
  /** The caller's signal; aborting it cancels the job. */
  signal?: AbortSignal;
}

/** One solve request. Lifecycle: attach states, `announce`, `run`, then `detach` and `finish`. */
export class Job<P, R extends Result> implements ProgressListener {
  readonly noCache: (vertex: Vertex<P>) => boolean;
  /** The states of this job's graph, inputs before dependants. */
  readonly states = new Set<VertexState<P, R>>();
  readonly #progress: JobProgress;
  readonly #ctrl = new AbortController();
  readonly #signal?: AbortSignal;
  readonly #onAbort = (): void => this.cancel(canceledError(this.#signal));
  #attached = true;

  constructor(init: JobInit<P>) {
    this.noCache = init.noCache;
    this.#progress = new JobProgress(init.progress);
    this.#signal = init.signal;
    if (init.signal?.aborted) this.#onAbort();
    else init.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Aborts with the job's cancel reason (the caller's signal or the solver closing). */
  get signal(): AbortSignal {
    return this.#ctrl.signal;
  }

  /** Cancels the job: `run` rejects with `reason` (a Canceled error). */
  cancel(reason: Error): void {
    if (!this.#ctrl.signal.aborted) this.#ctrl.abort(reason);
  }

  /** Adds a state and, first, all states below it to this job. */
  attach(state: VertexState<P, R>): void {
    if (this.states.has(state)) return;
    for (const input of state.inputs) this.attach(input.state);
    this.states.add(state);
    state.jobs.add(this);
  }

  /** Tells the client the whole graph up front, then where shared vertices already are. */
  announce(): void {
    for (const state of this.states) this.#progress.vertex(state.announcement());
    for (const state of this.states) {
      const current = state.current();
      if (current) this.#progress.vertex(current);
    }
  }

  /** Waits for `work`, or rejects as soon as the job is canceled. */
  run<T>(work: Promise<T>): Promise<T> {
    const signal = this.#ctrl.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      void work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** Lets go of every state; returns those no job holds any more (the caller drops them). */
  detach(): VertexState<P, R>[] {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    if (!this.#attached) return [];
    this.#attached = false;
    const orphans: VertexState<P, R>[] = [];
    for (const state of this.states) {
      state.jobs.delete(this);
      if (state.jobs.size === 0) orphans.push(state);
    }
    return orphans;
  }

  /** Ends the progress stream (vertices cut off are reported canceled). */
  finish(): void {
    this.#progress.finish();
  }

  vertexEvent(event: VertexEvent): void {
    this.#progress.vertex(event);
  }

  progressEvent(event: ProgressEvent): void {
    this.#progress.other(event);
  }
}
