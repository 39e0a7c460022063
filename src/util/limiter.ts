import { canceledError } from "./errors.js";

interface Waiter {
  grant: () => void;
  reject: (err: Error) => void;
  signal?: AbortSignal;
}

/** The waiters of one signal, with the single abort listener that rejects them all. */
interface SignalWatch {
  waiters: Set<Waiter>;
  onAbort: () => void;
}

/**
 * A counting semaphore: at most `limit` holders at once; waiters are served in order. Thousands may wait
 * (a tree copy queues every entry): queueing, granting and aborting are O(1) per waiter, and each signal
 * gets one abort listener however many of its waiters are queued.
 */
export class Limiter {
  #free: number;
  readonly #waiters = new Set<Waiter>();
  readonly #watches = new Map<AbortSignal, SignalWatch>();

  constructor(limit: number) {
    this.#free = Math.max(1, limit);
  }

  /** Waits for a slot and returns the function that frees it (call it exactly once). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw canceledError(signal);
    if (this.#free > 0) {
      this.#free--;
      return this.#releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = { grant: resolve, reject, signal };
      this.#waiters.add(w);
      if (signal) this.#watch(signal, w);
    });
    return this.#releaser();
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #watch(signal: AbortSignal, w: Waiter): void {
    let watch = this.#watches.get(signal);
    if (!watch) {
      const waiters = new Set<Waiter>();
      const onAbort = (): void => {
        this.#watches.delete(signal);
        for (const x of waiters) {
          this.#waiters.delete(x);
          x.reject(canceledError(signal));
        }
      };
      watch = { waiters, onAbort };
      this.#watches.set(signal, watch);
      signal.addEventListener("abort", onAbort, { once: true });
    }
    watch.waiters.add(w);
  }

  #unwatch(w: Waiter): void {
    if (!w.signal) return;
    const watch = this.#watches.get(w.signal);
    if (!watch) return;
    watch.waiters.delete(w);
    if (watch.waiters.size === 0) {
      w.signal.removeEventListener("abort", watch.onAbort);
      this.#watches.delete(w.signal);
    }
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiters.values().next();
      if (next.done) {
        this.#free++;
        return;
      }
      this.#waiters.delete(next.value);
      this.#unwatch(next.value);
      next.value.grant();
    };
  }
}
