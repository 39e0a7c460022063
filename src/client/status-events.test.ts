import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { StatusResponseSchema } from "../gen/moby/buildkit/v1/control_pb.js";
import { eventsOf } from "./status-events.js";

const FROM = "sha256:0f8fad8b0a290c9d126cc531ed1a74df7526d895be9590442356cfca3dcc3312";
const RUN = "sha256:3cb544fae74d41ec4b432bbedcded299a91532e5113db454b2f95af4c726c5b2";
const t = (ms: number): Date => new Date(Date.UTC(2026, 10, 23, 12, 38, 45) + ms);

// Shaped as buildkitd v0.11.6 sent it (recorded with `--progress rawjson`): one message re-sends the same
// vertex three times (a run completed, an instant run, a new run started), next to a status and a log.
test("eventsOf keeps every vertex entry of a message in order, with upstream's field meanings", () => {
  const res = create(StatusResponseSchema, {
    vertexes: [
      { digest: FROM, name: "docker-image://localhost:5000/cf/busybox:1", started: timestampFromDate(t(0)), completed: timestampFromDate(t(108)) },
      { digest: FROM, name: "docker-image://localhost:5000/cf/busybox:1", started: timestampFromDate(t(108)), completed: timestampFromDate(t(108)) },
      { digest: FROM, name: "docker-image://localhost:5000/cf/busybox:1", started: timestampFromDate(t(108)) },
      { digest: RUN, inputs: [FROM], name: "[2/2] RUN make", cached: true, progressGroup: { id: "g1", name: "group", weak: true } },
    ],
    statuses: [{ ID: "extracting sha256:6f64", vertex: FROM, name: "extracting", current: 5n, total: 0n, timestamp: timestampFromDate(t(256)), started: timestampFromDate(t(256)) }],
    logs: [{ vertex: RUN, stream: 2n, msg: new TextEncoder().encode("partial"), timestamp: timestampFromDate(t(300)) }],
    warnings: [{ vertex: RUN, level: 1n, short: new TextEncoder().encode("deprecated"), detail: [new TextEncoder().encode("use X")], url: "https://e.x" }],
  });
  const evs = eventsOf(res);
  assert.deepEqual(evs.map((e) => e.type), ["vertex", "vertex", "vertex", "vertex", "status", "log", "warning"]);
  const [a, b, c, d, s, l, w] = evs;
  assert.ok(a.type === "vertex" && b.type === "vertex" && c.type === "vertex" && d.type === "vertex");
  assert.deepEqual([a.started, a.completed], [t(0), t(108)]);
  assert.deepEqual([b.started, b.completed], [t(108), t(108)]);
  assert.deepEqual([c.started, c.completed], [t(108), undefined]);
  assert.deepEqual([d.inputs, d.cached, d.started, d.progressGroup], [[FROM], true, undefined, { id: "g1", name: "group", weak: true }]);
  assert.ok(s.type === "status");
  assert.deepEqual([s.id, s.vertex, s.current, s.total, s.started, s.completed], ["extracting sha256:6f64", FROM, 5, 0, t(256), undefined]);
  assert.ok(l.type === "log");
  assert.deepEqual([l.stream, Buffer.from(l.data).toString(), l.timestamp], [2, "partial", t(300)]);
  assert.ok(w.type === "warning");
  assert.deepEqual([w.short, w.detail, w.url, w.level], ["deprecated", ["use X"], "https://e.x", 1]);
});
