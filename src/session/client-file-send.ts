// The client's side of FileSend.DiffCopy: where the daemon's exports land. Raw-byte exports go to a
// file, stdout or a caller's stream; a directory export arrives as a DiffCopy and is merged in.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { Writable } from "node:stream";
import { fromBinary } from "@bufbuild/protobuf";
import { BytesMessageSchema } from "../gen/moby/filesync/v1/filesync_pb.js";
import { GantryError } from "../util/errors.js";
import { receiveDiffCopy } from "./diffcopy-receiver.js";
import type { GrpcHandler, GrpcServerCall } from "./grpc-h2-server.js";
import { packetConnOver } from "./packet-conn.js";

/** Where one exporter's output goes. `md` is the exporter's metadata (`exporter-md-*` headers). */
export type ExportTarget =
  | { type: "file"; path: string }
  | { type: "stdout" }
  | { type: "dir"; path: string }
  | { type: "writer"; open(md: Record<string, string>): Writable | Promise<Writable> };

/** Serves FileSend.DiffCopy for `targets`, chosen by the `buildkit-attachable-exporter-id` header (default 0). */
export function fileSendHandler(targets: readonly ExportTarget[]): GrpcHandler {
  return async (call) => {
    const id = Number.parseInt(call.metadata.get("buildkit-attachable-exporter-id")?.[0] ?? "0", 10);
    const target = targets[Number.isNaN(id) ? 0 : id];
    if (!target) throw new GantryError("NotFound", `exporter ${id} not found`);
    if (target.type === "dir") {
      const conn = packetConnOver(call.requestBatches, (m) => call.send(m), () => undefined);
      // Exports merge into the directory and belong to the user running the client, as upstream's.
      await receiveDiffCopy(conn, target.path, {
        merge: true,
        owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
        signal: call.signal,
      });
      return;
    }
    const md = exporterMetadata(call);
    if (target.type === "stdout") {
      await copyTo(call, process.stdout, false);
    } else if (target.type === "file") {
      await copyTo(call, createWriteStream(target.path), true);
    } else {
      await copyTo(call, await target.open(md), true);
    }
  };
}

function exporterMetadata(call: GrpcServerCall): Record<string, string> {
  const md: Record<string, string> = {};
  for (const [k, v] of call.metadata) if (k.startsWith("exporter-md-")) md[k.slice("exporter-md-".length)] = v.join(",");
  return md;
}

async function copyTo(call: GrpcServerCall, out: Writable, end: boolean): Promise<void> {
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  failed.catch(() => undefined);
  try {
    for await (const msg of call.requests) {
      const { data } = fromBinary(BytesMessageSchema, msg);
      if (data.length > 0 && !out.write(data)) await Promise.race([once(out, "drain"), failed]);
    }
    if (end) {
      out.end();
      await Promise.race([once(out, "finish"), failed]);
    }
  } catch (err) {
    if (end) out.destroy();
    throw err;
  }
}
