// gRPC's length-prefixed message framing (1 flag byte, 4-byte big-endian length, payload) over the byte
// stream of an HTTP/2 request or response body.
import { GantryError } from "../util/errors.js";

/** Largest message accepted; buildctl and buildkitd allow 16 MiB. */
export const MAX_GRPC_MESSAGE = 16 << 20;

/** One message with its 5-byte prefix (never compressed). */
export function encodeGrpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/**
 * Splits a body (chunks of any size) into messages. InvalidArgument on a compressed or oversized message
 * (we never offer compression) and on a body that ends inside a frame.
 */
export async function* decodeGrpcFrames(chunks: AsyncIterable<Uint8Array>, maxSize = MAX_GRPC_MESSAGE): AsyncGenerator<Uint8Array> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    while (buf.length >= 5) {
      if (buf[0] !== 0) throw new GantryError("InvalidArgument", "Cannot read a gRPC message: it is compressed, which this peer never asked for.");
      const len = buf.readUInt32BE(1);
      if (len > maxSize) throw new GantryError("ResourceExhausted", `Cannot read a gRPC message of ${len} bytes: the limit is ${maxSize}.`);
      if (buf.length < 5 + len) break;
      // Copy out so the message does not pin the (possibly large) concatenated buffer.
      yield Uint8Array.prototype.slice.call(buf, 5, 5 + len);
      buf = buf.subarray(5 + len);
    }
  }
  if (buf.length > 0) throw new GantryError("InvalidArgument", `Cannot read a gRPC message: the stream ended ${buf.length} bytes into a frame.`);
}
