// The daemon's side of FileSend.DiffCopy: exporters hand their output to the client, either as raw
// bytes (tar, oci, docker outputs) or as a DiffCopy packet stream with the daemon sending (local output).
import { Writable } from "node:stream";
import { create, toBinary } from "@bufbuild/protobuf";
import { BytesMessageSchema, FileSend } from "../gen/moby/filesync/v1/filesync_pb.js";
import { GantryError } from "../util/errors.js";
import { sendDiffCopy, type SendStats } from "./diffcopy-sender.js";
import type { GrpcH2Client, OutgoingMetadata } from "./grpc-h2-client.js";
import { methodPath } from "./grpc-typed.js";
import { packetConnOver } from "./packet-conn.js";

/** Largest BytesMessage sent, as upstream (well under the 16 MiB message limit). */
const MAX_CHUNK = 3 << 20;

export interface FileSendOptions {
  /** Which of the client's export targets (upstream's exporter index); default 0. */
  exporterId?: number;
  signal?: AbortSignal;
}

/** The path the client advertises when it accepts exports. */
export const FILE_SEND_METHOD = methodPath(FileSend.method.diffCopy);

function metadataFor(md: Record<string, string>, opts: FileSendOptions): OutgoingMetadata {
  const out: OutgoingMetadata = { "buildkit-attachable-exporter-id": String(opts.exporterId ?? 0) };
  for (const [k, v] of Object.entries(md)) out[`exporter-md-${k}`] = v;
  return out;
}

/**
 * A Writable whose bytes reach the client's export target. `md` travels as `exporter-md-<key>`
 * metadata. Finishing waits for the client to confirm; a client error destroys the stream with it.
 */
export function openFileSendWriter(client: GrpcH2Client, md: Record<string, string>, opts: FileSendOptions = {}): Writable {
  const call = client.stream(FILE_SEND_METHOD, { metadata: metadataFor(md, opts), signal: opts.signal });
  const done = (async () => {
    for await (const msg of call.responses) void msg; // the client sends nothing back but its status
  })();
  const send = async (data: Uint8Array): Promise<void> => {
    for (let off = 0; off < data.length; off += MAX_CHUNK) {
      await call.send(toBinary(BytesMessageSchema, create(BytesMessageSchema, { data: data.subarray(off, off + MAX_CHUNK) })));
    }
  };
  const w = new Writable({
    highWaterMark: 1 << 20,
    writev(chunks, cb) {
      // Coalesce small writes (tar headers) into one message.
      send(Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => cb(), cb);
    },
    final(cb) {
      call.closeSend();
      done.then(() => cb(), cb);
    },
    destroy(err, cb) {
      if (err) call.cancel();
      cb(err);
    },
  });
  done.catch((err: unknown) => w.destroy(err instanceof Error ? err : new GantryError("Internal", String(err))));
  return w;
}

/** Sends directory `src` to the client's directory target with DiffCopy (the client receives and merges). */
export async function sendDirToClient(client: GrpcH2Client, src: string, opts: FileSendOptions = {}): Promise<SendStats> {
  const call = client.stream(FILE_SEND_METHOD, { metadata: metadataFor({}, opts), signal: opts.signal });
  try {
    return await sendDiffCopy(packetConnOver(call.responseBatches, (m) => call.send(m), () => call.closeSend()), src, { signal: opts.signal });
  } catch (err) {
    call.cancel();
    throw err;
  }
}
