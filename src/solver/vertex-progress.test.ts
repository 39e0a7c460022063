import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProgressEvent, StatusEvent } from "./progress.js";
import { createVertexProgress } from "./vertex-progress.js";

test("status lines keep their start time and last counters; logs and warnings carry the vertex", () => {
  const out: ProgressEvent[] = [];
  const p = createVertexProgress("sha256:v", (e) => out.push(e));
  p.status("layer", 1, 10);
  p.status("layer", 5, 10);
  p.statusDone("layer");
  p.log(2, new Uint8Array([104, 105]));
  p.warn("short");
  const statuses = out.filter((e): e is StatusEvent => e.type === "status");
  assert.deepEqual(statuses.map((s) => [s.current, s.total, s.completed !== undefined]),
    [[1, 10, false], [5, 10, false], [5, 10, true]]);
  assert.ok(statuses.every((s) => s.started === statuses[0].started && s.vertex === "sha256:v"));
  assert.deepEqual(out.slice(3).map((e) => [e.type, "vertex" in e ? e.vertex : ""]),
    [["log", "sha256:v"], ["warning", "sha256:v"]]);
});
