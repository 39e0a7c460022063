import assert from "node:assert/strict";
import { test } from "node:test";
import { CANCELED_VERTEX_ERROR, JobProgress } from "./job-progress.js";
import type { ProgressEvent, VertexEvent } from "./progress.js";

const v = (digest: string, inputs: string[], extra: Partial<VertexEvent> = {}): VertexEvent =>
  ({ type: "vertex", digest, inputs, name: digest, ...extra });

test("a starting vertex reports its unfinished inputs cached at its start time, recursively", () => {
  const out: ProgressEvent[] = [];
  const p = new JobProgress((e) => out.push(e));
  p.vertex(v("a", []));
  p.vertex(v("b", ["a"]));
  p.vertex(v("c", ["b"]));
  const t = new Date(1000);
  out.length = 0;
  p.vertex(v("c", ["b"], { started: t, cached: true }));
  assert.deepEqual(out.map((e) => (e as VertexEvent).digest), ["a", "b", "c"]);
  assert.deepEqual(out[0], v("a", [], { cached: true, started: t, completed: t }));
  assert.deepEqual(out[1], v("b", ["a"], { cached: true, started: t, completed: t }));
  // c started cached but never completed: the end completes it, without blaming a cancel.
  p.finish();
  assert.equal(out.length, 4);
  const last = out[3] as VertexEvent;
  assert.equal(last.digest, "c");
  assert.ok(last.completed);
  assert.equal(last.error, undefined);
});

test("finish completes started vertices as canceled, except below a cached one", () => {
  const out: ProgressEvent[] = [];
  const p = new JobProgress((e) => out.push(e));
  const t = new Date(1000);
  p.vertex(v("a", [], { started: t }));
  p.vertex(v("x", [], { started: t }));
  p.vertex(v("b", ["a"], { started: t, completed: t, cached: true }));
  out.length = 0;
  p.finish();
  const byDigest = new Map(out.map((e) => [(e as VertexEvent).digest, e as VertexEvent]));
  assert.equal(byDigest.get("x")?.error, CANCELED_VERTEX_ERROR);
  assert.ok(byDigest.get("x")?.completed);
  p.vertex(v("late", [], { started: t }));
  p.other({ type: "log", vertex: "late", stream: 1, data: new Uint8Array(), timestamp: t });
  assert.equal(out.length, byDigest.size, "nothing after finish");
});
