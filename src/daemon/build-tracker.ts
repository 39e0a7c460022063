// Running Solve calls, so a stopping daemon can let them finish within a grace period and cancel the rest,
// and so the metrics count them. Each call gets a signal that also aborts on `cancelAll`.
import { GantryError, codeOf } from "../util/errors.js";
import type { BuildOutcome, DaemonMetrics } from "./daemon-metrics.js";

export class BuildTracker {
  readonly #metrics: DaemonMetrics;
  readonly #running = new Set<Promise<unknown>>();
  readonly #shutdown = new AbortController();
  #accepting = true;

  constructor(metrics: DaemonMetrics) {
    this.#metrics = metrics;
  }

  /** Builds running now. */
  get size(): number {
    return this.#running.size;
  }

  /**
   * Runs one build: `run` gets a signal that aborts when `signal` does or on `cancelAll`. Counts it in
   * the metrics by how it ended. Unavailable (without running it) once the daemon is shutting down.
   */
  async track<T>(signal: AbortSignal, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (!this.#accepting) throw new GantryError("Unavailable", "gantryd is shutting down and accepts no new builds.");
    const started = Date.now();
    this.#metrics.buildStarted();
    const p = run(AbortSignal.any([signal, this.#shutdown.signal]));
    this.#running.add(p);
    let outcome: BuildOutcome = "failure";
    try {
      const v = await p;
      outcome = "success";
      return v;
    } catch (err) {
      if (codeOf(err) === "Canceled" || signal.aborted || this.#shutdown.signal.aborted) outcome = "canceled";
      throw err;
    } finally {
      this.#running.delete(p);
      this.#metrics.buildFinished(outcome, (Date.now() - started) / 1000);
    }
  }

  /** Whether the daemon still accepts builds (false once `drain` or `cancelAll` was called). */
  get accepting(): boolean {
    return this.#accepting;
  }

  /**
   * Waits up to `graceMs` for running builds to end, then cancels the rest and waits for them to settle
   * (they release their snapshots and containers on the way out). Resolves with how many were canceled.
   */
  async drain(graceMs: number): Promise<number> {
    this.#accepting = false;
    const settled = (): Promise<unknown> => Promise.allSettled([...this.#running]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      settled().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    const left = this.#running.size;
    this.cancelAll();
    if (timedOut) await settled();
    return timedOut ? left : 0;
  }

  /** Cancels every running build and refuses new ones. */
  cancelAll(): void {
    this.#accepting = false;
    if (!this.#shutdown.signal.aborted) {
      this.#shutdown.abort(new GantryError("Canceled", "gantryd is shutting down: the build was canceled."));
    }
  }
}
