// StatusResponse messages from gantryd (or buildkitd) as the progress events printers render.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { StatusResponse } from "../gen/moby/buildkit/v1/control_pb.js";
import { sourceRangeOf } from "../util/errors.js";
import type { ProgressEvent } from "../util/progress-event.js";

const date = (t: Timestamp | undefined): Date | undefined => (t ? timestampDate(t) : undefined);

export function eventsOf(res: StatusResponse): ProgressEvent[] {
  const out: ProgressEvent[] = [];
  for (const v of res.vertexes) {
    out.push({
      type: "vertex", digest: v.digest, inputs: v.inputs, name: v.name, started: date(v.started), completed: date(v.completed),
      ...(v.cached ? { cached: true } : {}), ...(v.error ? { error: v.error } : {}),
      ...(v.progressGroup ? { progressGroup: { id: v.progressGroup.id, name: v.progressGroup.name, weak: v.progressGroup.weak } } : {}),
    });
  }
  for (const s of res.statuses) {
    out.push({
      type: "status", vertex: s.vertex, id: s.ID, name: s.name, current: Number(s.current), total: Number(s.total),
      timestamp: date(s.timestamp) ?? new Date(), started: date(s.started), completed: date(s.completed),
    });
  }
  for (const l of res.logs) out.push({ type: "log", vertex: l.vertex, stream: Number(l.stream) === 2 ? 2 : 1, data: l.msg, timestamp: date(l.timestamp) ?? new Date() });
  for (const w of res.warnings) {
    out.push({
      type: "warning", vertex: w.vertex, level: Number(w.level), short: Buffer.from(w.short).toString("utf8"),
      detail: w.detail.map((d) => Buffer.from(d).toString("utf8")), ...(w.url ? { url: w.url } : {}),
      ...(w.info ? { source: { filename: w.info.filename, ...(w.info.language ? { language: w.info.language } : {}) } } : {}),
      ...(w.ranges.length ? { ranges: w.ranges.map(sourceRangeOf) } : {}),
    });
  }
  return out;
}
