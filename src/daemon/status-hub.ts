// Progress of each running build, by build ref, for `Control.Status` streams. A client may open Status before
// or after Solve: events are kept from the start of the build until it ends, and late subscribers replay them.

import type { ProgressEvent } from "../util/progress-event.js";

interface BuildFeed {
  events: ProgressEvent[];
  listeners: Set<(e: ProgressEvent | null) => void>;
  done: boolean;
}

const WAIT_FOR_BUILD_MS = 6000;
const KEEP_AFTER_END_MS = 10_000;
/** How long a subscriber gathers events into one batch while the build runs. */
const BATCH_MS = 50;

export class StatusHub {
  readonly #feeds = new Map<string, BuildFeed>();
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Registers a build; returns its sink and the function that ends its feed. */
  open(ref: string): { sink: (e: ProgressEvent) => void; end: () => void } {
    const feed: BuildFeed = { events: [], listeners: new Set(), done: false };
    this.#feeds.set(ref, feed);
    for (const w of this.#waiters.get(ref) ?? []) w();
    this.#waiters.delete(ref);
    return {
      sink: (e) => {
        feed.events.push(e);
        for (const l of feed.listeners) l(e);
      },
      end: () => {
        feed.done = true;
        for (const l of feed.listeners) l(null);
        setTimeout(() => {
          if (this.#feeds.get(ref) === feed) this.#feeds.delete(ref);
        }, KEEP_AFTER_END_MS).unref();
      },
    };
  }

  /** Whether build `ref` is running or ended only moments ago (its events are still here). */
  has(ref: string): boolean {
    return this.#feeds.has(ref);
  }

  /** Yields batches of events of build `ref` until it ends; waits a while for a build not yet started. */
  async *subscribe(ref: string, signal?: AbortSignal): AsyncGenerator<ProgressEvent[]> {
    const feed = this.#feeds.get(ref) ?? (await this.#waitFor(ref, signal));
    if (!feed) return;
    let queue: ProgressEvent[] = [...feed.events];
    let ended = feed.done;
    let wake: (() => void) | undefined;
    const listener = (e: ProgressEvent | null): void => {
      if (e === null) ended = true;
      else queue.push(e);
      wake?.();
    };
    feed.listeners.add(listener);
    const onAbort = (): void => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      for (;;) {
        if (queue.length) {
          const batch = queue;
          queue = [];
          yield batch;
          continue;
        }
        if (ended || signal?.aborted) return;
        await new Promise<void>((r) => (wake = r));
        // Batch what arrives within a short tick, as upstream sends updates every ~100 ms. The end of the
        // build (or an abort) cuts the tick short: clients wait for this stream to end before they return.
        if (!ended && !signal?.aborted) {
          await new Promise<void>((r) => {
            const timer = setTimeout(r, BATCH_MS);
            wake = () => {
              if (!ended && !signal?.aborted) return;
              clearTimeout(timer);
              r();
            };
          });
        }
        wake = undefined;
      }
    } finally {
      feed.listeners.delete(listener);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #waitFor(ref: string, signal?: AbortSignal): Promise<BuildFeed | undefined> {
    return new Promise((resolve) => {
      const set = this.#waiters.get(ref) ?? new Set();
      this.#waiters.set(ref, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        resolve(this.#feeds.get(ref));
      };
      const timer = setTimeout(done, WAIT_FOR_BUILD_MS);
      set.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
