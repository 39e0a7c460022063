// Iterates a response body so that an abort ends the read at once: the stream is destroyed with Canceled,
// which also drops its connection (a half-read body cannot go back to the pool).
import type { Readable } from "node:stream";
import { canceledError } from "../util/errors.js";

/**
 * Yields the chunks of `body`. When `signal` fires, the pending read fails with Canceled; when the
 * consumer stops early, the stream is destroyed.
 */
export async function* bodyChunks(body: Readable, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (signal?.aborted) {
    body.destroy();
    throw canceledError(signal);
  }
  const onAbort = (): void => {
    body.destroy(canceledError(signal as AbortSignal));
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of body) yield chunk as Uint8Array;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
