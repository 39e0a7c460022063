// The gzip members of an eStargz blob, compressed in order but overlapping: while one member is still in
// zlib (the libuv pool), the converter already reads and feeds the next. A bounded window of unfinished
// members caps memory; their compressed bytes come out strictly in order, and each member's blob offset
// is known once everything before it has come out.
import { once } from "node:events";
import { createGzip, type Gzip } from "node:zlib";
import { DigestHasher } from "../util/digest.js";
import { GantryError } from "../util/errors.js";

/** Above this many queued input bytes a member's writer waits for zlib to catch up. */
const MEMBER_HIGH_WATER = 8 * 1024 * 1024;

class Member {
  readonly index: number;
  readonly #gz: Gzip;
  readonly done: Promise<Buffer>;

  constructor(index: number, level: number) {
    this.index = index;
    this.#gz = createGzip({ level, chunkSize: 64 * 1024 });
    const out: Buffer[] = [];
    this.#gz.on("data", (c: Buffer) => out.push(c));
    this.done = new Promise<Buffer>((resolve, reject) => {
      this.#gz.once("end", () => resolve(out.length === 1 ? out[0] : Buffer.concat(out)));
      this.#gz.once("error", reject);
    });
    // Awaited later, in order; until then a failure must not count as unhandled.
    this.done.catch(() => undefined);
  }

  async write(buf: Buffer): Promise<void> {
    this.#gz.write(buf);
    if (this.#gz.writableLength > MEMBER_HIGH_WATER) await once(this.#gz, "drain");
  }

  end(): void {
    this.#gz.end();
  }

  destroy(): void {
    this.#gz.destroy();
  }
}

/**
 * Writes the uncompressed stream as a sequence of gzip members. `append` adds bytes to the open member
 * (opening one if none), `boundary` ends it so the next bytes start a new one, `flush` yields finished
 * members' compressed bytes. Hashes the uncompressed stream on the way (the layer's diffID).
 */
export class GzipMemberQueue {
  readonly #level: number;
  readonly #pending: Member[] = [];
  readonly #offsets: number[] = [];
  readonly uncompressed = new DigestHasher();
  #open: Member | undefined;
  #count = 0;
  #written = 0;

  constructor(level: number) {
    this.#level = level;
  }

  /** Compressed bytes handed out so far: the blob offset of the next member to come out. */
  get written(): number {
    return this.#written;
  }

  /** Appends to the open member, opening one if needed. */
  async append(buf: Buffer): Promise<void> {
    if (buf.length === 0) return;
    this.uncompressed.update(buf);
    if (!this.#open) this.#open = new Member(this.#count++, this.#level);
    await this.#open.write(buf);
  }

  /** Ends the open member; returns the index of the member the next `append` starts. */
  boundary(): number {
    if (this.#open) {
      this.#open.end();
      this.#pending.push(this.#open);
      this.#open = undefined;
    }
    return this.#count;
  }

  /** Yields finished members, in order, until at most `keep` remain in flight. */
  async *flush(keep: number): AsyncGenerator<Buffer> {
    while (this.#pending.length > keep) {
      const m = this.#pending[0];
      const bytes = await m.done;
      this.#pending.shift();
      this.#offsets[m.index] = this.#written;
      this.#written += bytes.length;
      yield bytes;
    }
  }

  /** The blob offset of member `index`; valid once that member has been flushed. */
  offsetOf(index: number): number {
    const off = this.#offsets[index];
    if (off === undefined) throw new GantryError("Internal", `The eStargz gzip member ${index} was used before it was written.`);
    return off;
  }

  /** Stops every zlib stream still running (on failure or abandonment). */
  destroy(): void {
    this.#open?.destroy();
    for (const m of this.#pending) m.destroy();
  }
}
