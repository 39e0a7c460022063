// Iteration that an AbortSignal can interrupt while it waits for the next item (a stalled peer must not
// keep a canceled transfer alive).
import { GantryError, canceledError } from "../util/errors.js";

/** Yields `src`'s items until it ends or `signal` aborts; on abort throws the reason (a GantryError) or Canceled. */
export async function* abortable<T>(src: AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
  if (!signal) {
    yield* src;
    return;
  }
  const it = src[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason instanceof GantryError ? signal.reason : canceledError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let finished = false;
  try {
    for (;;) {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    // Don't wait: a source blocked in next() may only settle when its stream closes.
    if (!finished) void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}
