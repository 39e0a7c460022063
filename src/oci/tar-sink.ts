// The byte side of the layer tar worker: packs headers, file data and padding into fixed 1 MiB chunks,
// hashes each chunk once and hands it over whole (its ArrayBuffer is transferred, never copied). At most
// `maxInFlight` chunks are out unacknowledged, so a slow consumer stops the producer, not memory.
import { readSync } from "node:fs";
import { DigestHasher, type Digest } from "../util/digest.js";

/** Chunk size: large writes keep per-message, per-write and hashing overhead per byte low. */
export const TAR_CHUNK = 1024 * 1024;
const MAX_IN_FLIGHT = 4;

/** Receives a finished chunk: its buffer (ownership passes on) and how many leading bytes are used. */
export type ChunkSender = (data: ArrayBuffer, length: number) => void;

/**
 * Collects the archive's bytes into chunks. Writing is synchronous (`push`, `readFrom`); once `ready`, the
 * caller awaits `drain`, which sends full chunks as the consumer's `ack`s allow. `finish` sends the rest.
 */
export class TarSink {
  readonly #send: ChunkSender;
  readonly #maxInFlight: number;
  readonly #hasher = new DigestHasher();
  #buf = newChunk();
  #used = 0;
  readonly #full: Uint8Array[] = [];
  #inFlight = 0;
  #wake: (() => void) | undefined;

  constructor(send: ChunkSender, maxInFlight = MAX_IN_FLIGHT) {
    this.#send = send;
    this.#maxInFlight = maxInFlight;
  }

  /** Bytes free in the current chunk (always at least 1). */
  get free(): number {
    return TAR_CHUNK - this.#used;
  }

  /** True when a full chunk waits: call `drain` before writing much more. */
  get ready(): boolean {
    return this.#full.length > 0;
  }

  /** Copies `bytes` in (the caller may reuse them afterwards). */
  push(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length;) {
      const n = Math.min(bytes.length - off, TAR_CHUNK - this.#used);
      this.#buf.set(bytes.subarray(off, off + n), this.#used);
      this.#used += n;
      off += n;
      if (this.#used === TAR_CHUNK) this.#rotate();
    }
  }

  /**
   * Reads up to `length` (at most `free`) bytes from `fd`'s current position straight into the chunk;
   * returns how many came (fewer at end of file). Throws the read's error.
   */
  readFrom(fd: number, length: number): number {
    const n = readSync(fd, this.#buf, this.#used, Math.min(length, TAR_CHUNK - this.#used), null);
    this.#used += n;
    if (this.#used === TAR_CHUNK) this.#rotate();
    return n;
  }

  /** Sends the full chunks, waiting for acknowledgements while `maxInFlight` are out. */
  async drain(): Promise<void> {
    while (this.#full.length > 0) {
      while (this.#inFlight >= this.#maxInFlight) await new Promise<void>((resolve) => (this.#wake = resolve));
      const chunk = this.#full.shift() as Uint8Array;
      this.#hasher.update(chunk);
      this.#inFlight++;
      this.#send(chunk.buffer as ArrayBuffer, chunk.length);
    }
  }

  /** The consumer is done with one chunk. */
  ack(): void {
    this.#inFlight--;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Sends what is left; resolves with the sha256 and size of everything sent. */
  async finish(): Promise<{ diffId: Digest; size: number }> {
    if (this.#used > 0) {
      this.#full.push(this.#buf.subarray(0, this.#used));
      this.#buf = new Uint8Array(0);
      this.#used = 0;
    }
    await this.drain();
    return { diffId: this.#hasher.digest(), size: this.#hasher.size };
  }

  #rotate(): void {
    this.#full.push(this.#buf);
    this.#buf = newChunk();
    this.#used = 0;
  }
}

/** A chunk of its own memory (so it can be transferred), not zero-filled: every byte is written before use. */
function newChunk(): Uint8Array {
  return Buffer.allocUnsafeSlow(TAR_CHUNK);
}
