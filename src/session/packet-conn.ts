// The transport both ends of a DiffCopy see: a stream of fsutil Packets in, a way to send them out.
// Over gRPC each Packet is one message; in tests it is an in-memory pair.
import type { Packet } from "../gen/fsutil/types/wire_pb.js";
import { decodePacket, encodePacket } from "./diffcopy-codec.js";

export interface PacketConn {
  /** Packets from the peer, in the batches they arrived in (never empty); ends when the peer half-closes. */
  readonly incoming: AsyncIterable<readonly Packet[]>;
  /**
   * Sends one packet; safe to call concurrently (each packet goes out whole, in call order). Resolves
   * once the packet is queued, waiting only while the transport is backed up.
   */
  send(packet: Packet): Promise<void>;
  /**
   * Optional: sends packets in order as one transport write (each still its own message), ordered with
   * `send` calls around it. Waits like `send`; a failure rejects the whole batch. Callers fall back to
   * `send` per packet when absent (see sendPackets).
   */
  sendMany?(packets: readonly Packet[]): Promise<void>;
  /** Ends this side's sending (half close). Idempotent. */
  close(): void;
}

/** Sends `packets` in order: in one write when `conn` can batch, else one `send` each, awaited together. */
export function sendPackets(conn: PacketConn, packets: readonly Packet[]): Promise<void> {
  if (conn.sendMany) return conn.sendMany(packets);
  return Promise.all(packets.map((p) => conn.send(p))).then(() => undefined);
}

/**
 * A PacketConn over a message transport carrying encoded Packets (a gRPC stream's message batches).
 * `sendMessages`, when the transport has it, writes several messages at once and backs `sendMany`.
 */
export function packetConnOver(messages: AsyncIterable<readonly Uint8Array[]>, sendBytes: (message: Uint8Array) => Promise<void>,
  close: () => void, sendMessages?: (messages: readonly Uint8Array[]) => Promise<void>): PacketConn {
  return {
    incoming: decodePackets(messages),
    send: (packet) => sendBytes(encodePacket(packet)),
    ...(sendMessages ? { sendMany: (packets: readonly Packet[]) => sendMessages(packets.map(encodePacket)) } : {}),
    close,
  };
}

async function* decodePackets(batches: AsyncIterable<readonly Uint8Array[]>): AsyncGenerator<Packet[]> {
  for await (const batch of batches) yield batch.map(decodePacket);
}
