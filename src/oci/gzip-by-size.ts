// gzip for layers of any size without paying a process start for tiny ones. Which compressor runs is
// decided by one fact about the input, its size: an input of at most `smallBytes` is gzipped in-process by
// zlib in one call; a larger one goes through the `large` compressor (pigz). So for a given layer the
// bytes never depend on timing or load, only on the input, the level and the installed zlib/pigz.
import { Duplex } from "node:stream";
import { gzip } from "node:zlib";

export interface GzipBySizeOptions {
  level: number;
  /** Inputs up to this many bytes are gzipped by zlib; larger ones by `large`. */
  smallBytes: number;
  /** Starts the compressor for large inputs (called at most once, when the input passes `smallBytes`). */
  large: () => Duplex;
}

/**
 * A duplex (tar in, gzip out) that holds back up to `smallBytes` of input. If the input ends within that,
 * it is gzipped by zlib; otherwise the held bytes and the rest are streamed through `large()`. Errors of
 * either compressor destroy the duplex; destroying it destroys the large compressor.
 */
export function gzipBySize(opts: GzipBySizeOptions): Duplex {
  return new GzipBySize(opts);
}

class GzipBySize extends Duplex {
  readonly #opts: GzipBySizeOptions;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #large: Duplex | undefined;

  constructor(opts: GzipBySizeOptions) {
    super({ readableHighWaterMark: 1024 * 1024 });
    this.#opts = opts;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#large) return this.#forward(chunk, cb);
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes <= this.#opts.smallBytes) return cb();
    const all = Buffer.concat(this.#held, this.#heldBytes);
    this.#held = [];
    this.#heldBytes = 0;
    this.#startLarge();
    this.#forward(all, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#large) {
      this.#large.end();
      return cb();
    }
    const input = Buffer.concat(this.#held, this.#heldBytes);
    this.#held = [];
    gzip(input, { level: this.#opts.level }, (err, out) => {
      if (err) return cb(err);
      this.push(out);
      this.push(null);
      cb();
    });
  }

  override _read(): void {
    this.#large?.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#large?.destroy();
    cb(err);
  }

  #startLarge(): void {
    const large = this.#opts.large();
    this.#large = large;
    large.on("data", (c: Buffer) => {
      if (!this.push(c)) large.pause();
    });
    large.once("end", () => this.push(null));
    large.once("error", (e: Error) => this.destroy(e));
  }

  #forward(chunk: Buffer, cb: (err?: Error | null) => void): void {
    const large = this.#large as Duplex;
    if (large.write(chunk)) cb();
    else large.once("drain", () => cb());
  }
}
