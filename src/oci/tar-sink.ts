// The byte side of the layer writer: collects small pieces (headers, small files, padding) into large
// writes, hashes each write once, and honours the destination's backpressure.
import type { Writable } from "node:stream";
import { DigestHasher, type Digest } from "../util/digest.js";
import { canceledError, throwIfAborted } from "../util/errors.js";

/** Pending bytes that trigger a write: large writes keep pipe and hashing overhead per byte low. */
const FLUSH_BYTES = 1024 * 1024;

/**
 * Buffers and hashes what is pushed, writing to `out` in chunks of about FLUSH_BYTES. Pushed buffers are
 * kept by reference until written, so callers must not change them after `push`. Call `release` once done.
 */
export class TarSink {
  readonly #out: Writable;
  readonly #signal?: AbortSignal;
  readonly #hasher = new DigestHasher();
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #error: Error | undefined;
  readonly #onError = (e: Error): void => {
    this.#error ??= e;
  };

  constructor(out: Writable, signal?: AbortSignal) {
    this.#out = out;
    this.#signal = signal;
    // Listen for the whole write: a write error between our awaits must not become an uncaught event.
    out.on("error", this.#onError);
  }

  /** Stops listening to the destination; call once when done. */
  release(): void {
    this.#out.off("error", this.#onError);
  }

  /** Bytes written so far (call after the final `flush` for the archive's size). */
  get size(): number {
    return this.#hasher.size;
  }

  /** sha256 of the bytes written so far. */
  digest(): Digest {
    return this.#hasher.digest();
  }

  /** True when enough is pending that the caller should `flush` before pushing more. */
  get full(): boolean {
    return this.#pendingBytes >= FLUSH_BYTES;
  }

  /** Queues `chunk` without writing; pair with `flush` when `full`. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
  }

  /** Writes what is pending; waits for 'drain' when the destination asks. Rejects with a write error. */
  async flush(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#pendingBytes === 0) return;
    const buf = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#hasher.update(buf);
    if (!this.#out.write(buf)) await waitDrain(this.#out, this.#signal);
    if (this.#error) throw this.#error;
  }
}

/** Resolves on 'drain'; rejects when the stream errors, closes first, or the signal aborts. */
function waitDrain(out: Writable, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  if (out.destroyed) return Promise.reject(out.errored ?? new Error("the destination stream was closed"));
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off("drain", onDrain);
      out.off("error", onError);
      out.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      reject(out.errored ?? new Error("the destination stream was closed"));
    };
    const onAbort = (): void => {
      cleanup();
      reject(canceledError(signal));
    };
    out.on("drain", onDrain);
    out.on("error", onError);
    out.on("close", onClose);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
