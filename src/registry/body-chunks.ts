// Iterates a fetch response body without ever waiting on its cancellation: undici's `cancel()` on a body
// whose request was aborted can stay pending forever, and `for await` over the stream awaits it on early
// exit. Here an early exit or an abort releases the stream in the background instead.
import { canceledError } from "../util/errors.js";

/**
 * Yields the chunks of `body`. When `signal` fires, the pending read is abandoned and Canceled thrown;
 * when the consumer stops early, the stream is cancelled without awaiting it.
 */
export async function* bodyChunks(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let aborted: Promise<never> | undefined;
  let onAbort: (() => void) | undefined;
  if (signal) {
    aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(canceledError(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    // Only observed through the race below; keep it from being reported as unhandled.
    aborted.catch(() => undefined);
  }
  let finished = false;
  try {
    for (;;) {
      const next = aborted ? await Promise.race([reader.read(), aborted]) : await reader.read();
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    if (!finished) reader.cancel().catch(() => undefined);
  }
}
