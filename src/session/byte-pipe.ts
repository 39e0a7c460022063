// The Session RPC carries a raw byte stream in arbitrarily sized BytesMessage chunks. HTTP/2 needs a
// socket-like Duplex, so this adapts "chunks in, chunks out" to one, with backpressure both ways.
import { Duplex } from "node:stream";

/** A Duplex over a chunk stream: read from it what arrives on `incoming`; what is written to it comes out of `outgoing`. */
export interface BytePipe {
  readonly duplex: Duplex;
  /**
   * The bytes written to the duplex, in order. Ends when the duplex is ended (half close) or destroyed;
   * stopping the iteration early destroys the duplex.
   */
  readonly outgoing: AsyncIterable<Uint8Array>;
}

/**
 * Largest chunk handed to `outgoing` when writes are merged: one BytesMessage each, far below the 4 MiB
 * a default gRPC peer accepts.
 */
const MAX_MERGED = 1 << 20;

interface PendingWrite {
  chunk: Uint8Array;
  done: (err?: Error | null) => void;
}

/** Wraps `incoming` (the data of each received message). The iterable is read only as fast as the duplex is read. */
export function createBytePipe(incoming: AsyncIterable<Uint8Array>): BytePipe {
  const duplex = new ChunkDuplex(incoming);
  return { duplex, outgoing: duplex.drainWrites() };
}

class ChunkDuplex extends Duplex {
  readonly #incoming: AsyncIterable<Uint8Array>;
  #source: AsyncIterator<Uint8Array> | undefined;
  #reading = false;
  readonly #writes: PendingWrite[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(incoming: AsyncIterable<Uint8Array>) {
    super({ allowHalfOpen: true });
    this.#incoming = incoming;
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#source ??= this.#incoming[Symbol.asyncIterator]();
    this.#source.next().then((r) => {
      this.#reading = false;
      if (r.done) this.push(null);
      else if (r.value.length > 0) this.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length));
      else this._read(); // an empty message carries nothing; ask for the next one
    }, (err: unknown) => {
      this.#reading = false;
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#writes.push({ chunk, done });
    this.#notify();
  }

  /** HTTP/2 writes a frame header and its payload as separate buffers: they leave as one chunk. */
  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.#writes.push({ chunk: chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)), done });
    this.#notify();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.#ended = true;
    this.#notify();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#ended = true;
    for (const w of this.#writes.splice(0)) w.done(err ?? new Error("The session pipe was closed."));
    this.#notify();
    // Stop pulling the RPC's messages; a pending next() settles on its own.
    void this.#source?.return?.().catch(() => undefined);
    done(err);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *drainWrites(): AsyncGenerator<Uint8Array> {
    let current: PendingWrite[] = [];
    try {
      for (;;) {
        current = this.#takeWrites();
        if (current.length > 0) {
          // Everything written meanwhile leaves as one chunk (the session's many small frames would
          // otherwise become a message each). Acknowledge the writes only once the consumer came back
          // for more: that is the backpressure.
          yield current.length === 1 ? current[0].chunk : Buffer.concat(current.map((w) => w.chunk));
          const ws = current;
          current = [];
          for (const w of ws) w.done();
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      // The consumer stopped early: the chunks it was handed never left.
      for (const w of current) w.done(new Error("The session pipe was closed."));
      if (!this.#ended) this.destroy();
    }
  }

  /** The queued writes up to MAX_MERGED bytes (at least one). */
  #takeWrites(): PendingWrite[] {
    let n = 0;
    let bytes = 0;
    while (n < this.#writes.length && (n === 0 || bytes + this.#writes[n].chunk.length <= MAX_MERGED)) {
      bytes += this.#writes[n].chunk.length;
      n++;
    }
    return this.#writes.splice(0, n);
  }
}
