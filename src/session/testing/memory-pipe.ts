// In-memory transports for tests: a one-way async channel, a PacketConn pair, and a rechunker that
// splits and merges byte chunks at random, as the Session RPC's BytesMessage framing may.
import type { Packet } from "../../gen/fsutil/types/wire_pb.js";
import type { PacketConn } from "../packet-conn.js";

/** An unbounded one-way queue: `push` values, `end` it, iterate it once. */
export class Channel<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  push(item: T): void {
    if (this.#ended) throw new Error("push after end");
    this.#items.push(item);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

/** Two connected PacketConns (what one sends the other receives, one packet per batch). */
export function createPacketConnPair(): [PacketConn, PacketConn] {
  const ab = new Channel<Packet[]>();
  const ba = new Channel<Packet[]>();
  const end = (c: Channel<Packet[]>) => {
    let done = false;
    return () => {
      if (!done) c.end();
      done = true;
    };
  };
  return [
    { incoming: ba, send: async (p) => ab.push([p]), close: end(ab) },
    { incoming: ab, send: async (p) => ba.push([p]), close: end(ba) },
  ];
}

/**
 * Re-chunks a byte stream at random: splits chunks, and merges neighbours that arrive back to back (a
 * chunk is never held while the producer waits, so request/answer exchanges cannot stall).
 */
export async function* rechunk(src: AsyncIterable<Uint8Array>, random: () => number = Math.random): AsyncGenerator<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  let carry: Uint8Array = new Uint8Array(0);
  let pending = it.next();
  for (;;) {
    let r: IteratorResult<Uint8Array>;
    if (carry.length > 0) {
      const timer = new Promise<"idle">((resolve) => setTimeout(() => resolve("idle"), 1));
      const first = await Promise.race([pending, timer]);
      if (first === "idle") {
        yield carry;
        carry = new Uint8Array(0);
        r = await pending;
      } else {
        r = first;
      }
    } else {
      r = await pending;
    }
    if (r.done) break;
    pending = it.next();
    let data: Uint8Array = carry.length ? Buffer.concat([carry, r.value]) : r.value;
    carry = new Uint8Array(0);
    while (data.length > 0) {
      if (random() < 0.3) {
        carry = data; // merge with the next chunk if it follows at once
        break;
      }
      const n = Math.floor(random() * data.length) + 1;
      yield data.subarray(0, n);
      data = data.subarray(n);
    }
  }
  if (carry.length > 0) yield carry;
}
