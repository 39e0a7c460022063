// gRPC's length-prefixed message framing (1 flag byte, 4-byte big-endian length, payload) over the byte
// stream of an HTTP/2 request or response body.
import type { Writable } from "node:stream";
import { GantryError } from "../util/errors.js";

/** Largest message accepted; buildctl and buildkitd allow 16 MiB. */
export const MAX_GRPC_MESSAGE = 16 << 20;

/**
 * Bytes a FrameWriter lets pile up in its stream before a send waits. Far above the stream's own 16 KiB
 * high-water mark: a DiffCopy sends tens of thousands of small packets, and waiting for each to be
 * flushed through the session's layers turned every packet into a round trip.
 */
const WRITER_LIMIT = 1 << 20;

const EMPTY = Buffer.alloc(0);

/** One message with its 5-byte prefix (never compressed). */
export function encodeGrpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** Several messages framed back to back in one buffer: each stays its own message on the wire. */
export function encodeGrpcFrames(messages: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const m of messages) size += 5 + m.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const m of messages) {
    out[at] = 0;
    out.writeUInt32BE(m.length, at + 1);
    out.set(m, at + 5);
    at += 5 + m.length;
  }
  return out;
}

/**
 * Splits a body (chunks of any size) into messages. InvalidArgument on a compressed or oversized message
 * (we never offer compression) and on a body that ends inside a frame.
 */
export async function* decodeGrpcFrames(chunks: AsyncIterable<Uint8Array>, maxSize = MAX_GRPC_MESSAGE): AsyncGenerator<Uint8Array> {
  for await (const batch of decodeGrpcFrameBatches(chunks, maxSize)) yield* batch;
}

/**
 * decodeGrpcFrames, yielding the messages completed by each chunk together: a consumer of many small
 * messages then pays one async step per chunk, not per message. Batches are never empty. Each message is
 * its own copy, so it never pins a large chunk, and a message split over many chunks is copied once.
 */
export async function* decodeGrpcFrameBatches(chunks: AsyncIterable<Uint8Array>, maxSize = MAX_GRPC_MESSAGE): AsyncGenerator<Uint8Array[]> {
  let head: Buffer = EMPTY; // the start of a header split across chunks
  let body: Buffer | undefined; // the message being filled
  let filled = 0;
  for await (const chunk of chunks) {
    const out: Uint8Array[] = [];
    let b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (b.length > 0) {
      if (body === undefined) {
        if (head.length + b.length < 5) {
          head = Buffer.concat([head, b]);
          break;
        }
        const take = 5 - head.length;
        const hdr = head.length === 0 ? b : Buffer.concat([head, b.subarray(0, take)]);
        b = b.subarray(take);
        head = EMPTY;
        const len = frameLength(hdr, maxSize);
        if (b.length >= len) {
          out.push(Uint8Array.prototype.slice.call(b, 0, len));
          b = b.subarray(len);
          continue;
        }
        body = Buffer.allocUnsafe(len);
        filled = 0;
      }
      const n = Math.min(body.length - filled, b.length);
      b.copy(body, filled, 0, n);
      filled += n;
      b = b.subarray(n);
      if (filled === body.length) {
        out.push(body);
        body = undefined;
      }
    }
    if (out.length > 0) yield out;
  }
  const left = head.length + (body ? 5 + filled : 0);
  if (left > 0) throw new GantryError("InvalidArgument", `Cannot read a gRPC message: the stream ended ${left} bytes into a frame.`);
}

function frameLength(hdr: Buffer, maxSize: number): number {
  if (hdr[0] !== 0) throw new GantryError("InvalidArgument", "Cannot read a gRPC message: it is compressed, which this peer never asked for.");
  const len = hdr.readUInt32BE(1);
  if (len > maxSize) throw new GantryError("ResourceExhausted", `Cannot read a gRPC message of ${len} bytes: the limit is ${maxSize}.`);
  return len;
}

/**
 * Writes framed messages to an HTTP/2 stream without waiting for each write to be flushed: a send waits
 * only while more than WRITER_LIMIT bytes are queued (backpressure), so many small messages travel together.
 * Order is kept. A failed write fails every later send with `ended()`.
 */
export class FrameWriter {
  readonly #stream: Writable;
  readonly #ended: () => Error;
  #failure: Error | undefined;
  #drain: Promise<void> | undefined;

  constructor(stream: Writable, ended: () => Error) {
    this.#stream = stream;
    this.#ended = ended;
  }

  /** Queues one message; resolves at once unless the stream is backed up. Rejects once the stream ended. */
  send(message: Uint8Array): Promise<void> {
    return this.#write(encodeGrpcFrame(message));
  }

  /**
   * Queues several messages, in order, as one stream write (one buffer, one callback): for bursts of small
   * messages, where per-write overhead dominates. Waits and fails as `send` does, for the whole batch.
   */
  sendMany(messages: readonly Uint8Array[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return this.#write(encodeGrpcFrames(messages));
  }

  #write(frames: Buffer): Promise<void> {
    const s = this.#stream;
    if (this.#failure) return Promise.reject(this.#failure);
    if (s.destroyed || s.writableEnded) return Promise.reject(this.#ended());
    const ok = s.write(frames, (err) => {
      if (err) this.#failure ??= this.#ended();
    });
    if (ok || s.writableLength < WRITER_LIMIT) return Promise.resolve();
    return this.#waitDrain();
  }

  /** One shared wait per backed-up period, so concurrent senders add no listeners each. */
  #waitDrain(): Promise<void> {
    this.#drain ??= new Promise<void>((resolve, reject) => {
      const s = this.#stream;
      const settle = (err?: Error): void => {
        s.off("drain", onDrain);
        s.off("close", onClose);
        this.#drain = undefined;
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => settle();
      const onClose = (): void => settle(this.#failure ?? this.#ended());
      s.on("drain", onDrain);
      s.on("close", onClose);
    });
    return this.#drain;
  }
}
