// Block-parallel gzip in-process, the way pigz does it but on zlib in the libuv pool: the input is cut at
// fixed offsets into blocks, each block is raw-deflated on its own (deflate-block.ts: primed with the
// previous 32 KiB, sync-flushed, incompressible stretches stored without a zlib call), and the pieces are
// emitted in order between one gzip header and trailer. Block boundaries and the stored/deflated plan
// depend only on the input bytes, never on how writes arrive or on timing, so the output is deterministic
// for a given input, level, block size and zlib version. Memory stays bounded: at most a few blocks are
// held between input and output, and a slow reader stops accepting writes.
import { availableParallelism } from "node:os";
import { Duplex } from "node:stream";
import { crc32 } from "node:zlib";
import { canceledError, GantryError } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";
import { DEFLATE_WINDOW, deflateBlock } from "./deflate-block.js";

export interface ParallelGzipOptions {
  /** zlib level 0–9 (default 6); 0 stores everything. */
  level?: number;
  /** Input bytes per block (default 1 MiB). The output bytes depend on it. */
  blockBytes?: number;
  /** zlib calls in flight at once (default: CPUs + 1, leaving at least one libuv pool thread free). */
  concurrency?: number;
  /** Aborting destroys the stream with Canceled. */
  signal?: AbortSignal;
}

export const DEFAULT_GZIP_BLOCK_BYTES = 1024 * 1024;
const DEFAULT_LEVEL = 6;
const MIN_BLOCK_BYTES = 1024;

interface PendingBlock {
  out: Promise<Buffer>;
  final: boolean;
}

/**
 * A duplex: write bytes in, read one gzip member out (no name, mtime 0, OS Unix). A zlib error destroys
 * it with that error; aborting `signal` destroys it with Canceled; destroying it stops further zlib calls.
 * Throws InvalidArgument for a bad level, block size or concurrency.
 */
export function createParallelGzip(opts: ParallelGzipOptions = {}): Duplex {
  return new ParallelGzip(opts);
}

/** The default number of zlib calls in flight: the CPUs plus one to hide hand-off gaps, capped so that
 * file reads sharing the libuv pool (UV_THREADPOOL_SIZE, 4 unless set) are never starved. */
export function defaultGzipConcurrency(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism() + 1, pool - 1));
}

class ParallelGzip extends Duplex {
  readonly #level: number;
  readonly #blockBytes: number;
  readonly #limiter: Limiter;
  readonly #maxPending: number;
  readonly #abort = new AbortController();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => void this.destroy(canceledError(this.#signal));
  #chunks: Buffer[] = [];
  #filled = 0;
  #before: Buffer = Buffer.alloc(0);
  #crc = 0;
  #size = 0;
  #headerSent = false;
  #pending: PendingBlock[] = [];
  #pumping = false;
  #slotFreed: (() => void) | undefined;
  #readWanted: (() => void) | undefined;

  constructor(opts: ParallelGzipOptions) {
    const level = checkInt("level", opts.level ?? DEFAULT_LEVEL, 0, 9);
    const blockBytes = checkInt("blockBytes", opts.blockBytes ?? DEFAULT_GZIP_BLOCK_BYTES, MIN_BLOCK_BYTES, 2 ** 30);
    const concurrency = checkInt("concurrency", opts.concurrency ?? defaultGzipConcurrency(), 1, 1024);
    super({ readableHighWaterMark: blockBytes, writableHighWaterMark: 64 * 1024 });
    this.#level = level;
    this.#blockBytes = blockBytes;
    this.#limiter = new Limiter(concurrency);
    // Two blocks more than zlib calls, so the pool stays busy while a finished block waits to be read.
    this.#maxPending = concurrency + 2;
    this.#signal = opts.signal;
    if (opts.signal?.aborted) process.nextTick(this.#onAbort);
    else opts.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#accept(chunk).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#submit(true).then(() => cb(), cb);
  }

  override _read(): void {
    const wake = this.#readWanted;
    this.#readWanted = undefined;
    wake?.();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#abort.abort(); // zlib calls still queued on the limiter reject; running ones finish unread
    this.#pending = [];
    this.#slotFreed?.();
    this.#readWanted?.();
    cb(err);
  }

  /** Cuts the input at multiples of the block size, whatever the chunking; copies only to join pieces. */
  async #accept(chunk: Buffer): Promise<void> {
    let rest = chunk;
    while (rest.length > 0 && !this.destroyed) {
      const take = Math.min(rest.length, this.#blockBytes - this.#filled);
      this.#chunks.push(rest.subarray(0, take));
      this.#filled += take;
      rest = rest.subarray(take);
      if (this.#filled === this.#blockBytes) await this.#submit(false);
    }
  }

  /** Hands the filled block to zlib, then waits while too many blocks are between input and output. */
  async #submit(final: boolean): Promise<void> {
    const data = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#filled);
    this.#chunks = [];
    this.#crc = crc32(data, this.#crc);
    this.#size += data.length;
    const before = this.#before;
    this.#before = data.length >= DEFLATE_WINDOW ? data.subarray(data.length - DEFLATE_WINDOW)
      : Buffer.concat([before, data]).subarray(-DEFLATE_WINDOW);
    this.#filled = 0;
    const out = deflateBlock({ data, before, final }, { level: this.#level, limiter: this.#limiter, signal: this.#abort.signal });
    out.catch(() => undefined); // read (and reported) by #pump, unless the stream was destroyed first
    this.#pending.push({ out, final });
    void this.#pump();
    while (this.#pending.length >= this.#maxPending && !this.destroyed) {
      await new Promise<void>((resolve) => (this.#slotFreed = resolve));
    }
  }

  /** Pushes finished blocks in input order, header first and trailer after the final block. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#pending.length > 0 && !this.destroyed) {
        const head = this.#pending[0] as PendingBlock;
        const out = await head.out;
        if (this.destroyed) return;
        this.#pending.shift();
        const wake = this.#slotFreed;
        this.#slotFreed = undefined;
        wake?.();
        if (!this.#headerSent) {
          this.push(gzipHeader(this.#level));
          this.#headerSent = true;
        }
        let more = out.length === 0 || this.push(out);
        if (head.final) {
          this.push(gzipTrailer(this.#crc, this.#size));
          this.push(null);
          more = true;
        }
        if (!more) await new Promise<void>((resolve) => (this.#readWanted = resolve));
      }
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#pumping = false;
    }
  }
}

/** gzip header: deflate, no flags, mtime 0 (like `pigz -n`), XFL as zlib sets it, OS 3 (Unix). */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level <= 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

/** gzip trailer: CRC-32 of the input, then its size mod 2^32, both little-endian. */
function gzipTrailer(crc: number, size: number): Buffer {
  const t = Buffer.allocUnsafe(8);
  t.writeUInt32LE(crc >>> 0, 0);
  t.writeUInt32LE(size % 2 ** 32, 4);
  return t;
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GantryError("InvalidArgument", `Invalid parallel gzip ${name} ${value}: expected an integer from ${min} to ${max}.`);
  }
  return value;
}
