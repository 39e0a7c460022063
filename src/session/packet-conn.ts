// The transport both ends of a DiffCopy see: a stream of fsutil Packets in, a way to send them out.
// Over gRPC each Packet is one message; in tests it is an in-memory pair.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { PacketSchema, type Packet } from "../gen/fsutil/types/wire_pb.js";

export interface PacketConn {
  /** Packets from the peer; ends when the peer half-closes. */
  readonly incoming: AsyncIterable<Packet>;
  /** Sends one packet; safe to call concurrently (each packet goes out whole). */
  send(packet: Packet): Promise<void>;
  /** Ends this side's sending (half close). Idempotent. */
  close(): void;
}

/** A PacketConn over a message transport carrying encoded Packets (a gRPC stream). */
export function packetConnOver(messages: AsyncIterable<Uint8Array>, sendBytes: (message: Uint8Array) => Promise<void>,
  close: () => void): PacketConn {
  return {
    incoming: decodePackets(messages),
    send: (packet) => sendBytes(toBinary(PacketSchema, packet)),
    close,
  };
}

async function* decodePackets(messages: AsyncIterable<Uint8Array>): AsyncGenerator<Packet> {
  for await (const m of messages) yield fromBinary(PacketSchema, m);
}
