// Progress events as upstream's StatusResponse pieces: what `buildctl` renders from Control.Status, and what a
// build history record's logs blob holds.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  StatusResponseSchema, VertexLogSchema, VertexSchema, VertexStatusSchema, VertexWarningSchema, type StatusResponse,
} from "../gen/moby/buildkit/v1/control_pb.js";
import type { ProgressEvent } from "../util/progress-event.js";

const ts = (d: Date | undefined) => (d ? timestampFromDate(d) : undefined);

/** One StatusResponse for a batch of events (vertexes, statuses, logs and warnings keep their order). */
export function statusResponseOf(events: readonly ProgressEvent[]): StatusResponse {
  const res = create(StatusResponseSchema);
  for (const e of events) {
    switch (e.type) {
      case "vertex":
        res.vertexes.push(create(VertexSchema, {
          digest: e.digest, inputs: e.inputs, name: e.name, cached: e.cached ?? false, started: ts(e.started),
          completed: ts(e.completed), error: e.error ?? "",
          ...(e.progressGroup ? { progressGroup: { id: e.progressGroup.id, name: e.progressGroup.name, weak: e.progressGroup.weak ?? false } } : {}),
        }));
        break;
      case "status":
        res.statuses.push(create(VertexStatusSchema, {
          ID: e.id, vertex: e.vertex, name: e.name ?? "", current: BigInt(e.current), total: BigInt(e.total),
          timestamp: ts(e.timestamp), started: ts(e.started), completed: ts(e.completed),
        }));
        break;
      case "log":
        res.logs.push(create(VertexLogSchema, { vertex: e.vertex, timestamp: ts(e.timestamp), stream: BigInt(e.stream), msg: e.data }));
        break;
      case "warning":
        res.warnings.push(create(VertexWarningSchema, {
          vertex: e.vertex, level: BigInt(e.level), short: Buffer.from(e.short), detail: e.detail.map((d) => Buffer.from(d)), url: e.url ?? "",
          ...(e.source ? { info: { filename: e.source.filename, language: e.source.language ?? "" } } : {}),
          ranges: (e.ranges ?? []).map((r) => ({ start: r.start, end: r.end })),
        }));
        break;
    }
  }
  return res;
}
