import { test } from "node:test";
import assert from "node:assert/strict";
import { at, log, status, vtx, warning } from "./test-events.js";
import { mergeIntervals, runSeconds, VertexTable } from "./vertex-table.js";

test("an announcement names a vertex; only started vertices join the start order", () => {
  const t = new VertexTable();
  assert.equal(t.apply(vtx("a", "A", { inputs: ["x"] })).changed, false);
  t.apply(vtx("b", "B"));
  t.apply(vtx("b", "B", { started: 1 }));
  assert.deepEqual([...t.rows.keys()], ["a", "b"]);
  assert.deepEqual(t.startOrder.map((r) => r.digest), ["b"]);
  assert.deepEqual(t.rows.get("a")?.inputs, ["x"]);
  assert.deepEqual(t.counts(), { done: 0, total: 2 });
});

test("a started vertex reports change only when its state moves; a late announcement does not reset it", () => {
  const t = new VertexTable();
  assert.equal(t.apply(vtx("a", "A", { started: 0 })).changed, true);
  assert.equal(t.apply(vtx("a", "A", { started: 0 })).changed, false);
  assert.equal(t.apply(vtx("a", "A")).changed, false);
  assert.equal(t.rows.get("a")?.started?.getTime(), at(0).getTime());
  assert.equal(t.apply(vtx("a", "A", { started: 0, completed: 1, cached: true })).changed, true);
  assert.equal(t.apply(vtx("a", "A", { started: 0, completed: 1, cached: true })).changed, false);
  const row = t.rows.get("a");
  assert.equal(row?.cached, true);
  assert.deepEqual(t.counts(), { done: 1, total: 1 });
  // A re-run replaces the latest state: no longer completed nor cached.
  t.apply(vtx("a", "A", { started: 5 }));
  assert.equal(row?.completed, undefined);
  assert.equal(row?.cached, false);
  assert.equal(row?.intervals.size, 2);
});

test("logs split into lines across chunks; each line carries the time its first byte arrived", () => {
  const t = new VertexTable();
  t.apply(vtx("a", "A", { started: 1 }));
  assert.deepEqual(t.apply(log("a", 1.5, "one\ntw")).newLines, ["0.500 one"]);
  assert.deepEqual(t.apply(log("a", 2, "o")).newLines, []);
  assert.deepEqual(t.apply(log("a", 3, "\n\nthree")).newLines, ["0.500 two", "2.000 "]);
  const row = t.rows.get("a");
  assert.deepEqual(row?.lines, ["one", "two", ""]);
  assert.equal(row?.partial, "three");
  // Completion finishes the pending line.
  assert.deepEqual(t.apply(vtx("a", "A", { started: 1, completed: 4 })).newLines, ["2.000 three"]);
  assert.equal(row?.partial, "");
  assert.deepEqual(row?.timedLines, ["0.500 one", "0.500 two", "2.000 ", "2.000 three"]);
});

test("logs before a vertex starts are timed 0; statuses and warnings are kept per vertex", () => {
  const t = new VertexTable();
  assert.deepEqual(t.apply(log("a", 7, "early\n")).newLines, ["0.000 early"]);
  t.apply(status("a", "s1", { t: 1, started: 0, current: 1, total: 2 }));
  t.apply(status("a", "s1", { t: 2, started: 0, current: 2, total: 2, done: true }));
  t.apply(warning("a", "careful"));
  const row = t.rows.get("a");
  assert.equal(row?.name, "a");
  assert.equal(row?.statuses.size, 1);
  assert.equal(row?.statuses.get("s1")?.current, 2);
  assert.deepEqual(row?.warnings, ["careful"]);
});

test("log history is capped", () => {
  const t = new VertexTable();
  t.apply(log("a", 0, "x\n".repeat(500)));
  assert.equal(t.rows.get("a")?.lines.length, 200);
  assert.equal(t.rows.get("a")?.timedLines.length, 200);
});

test("mergeIntervals joins overlaps and lets an open run swallow later ones", () => {
  const iv = (a: number, b?: number): { start: Date; stop?: Date } => ({ start: at(a), ...(b === undefined ? {} : { stop: at(b) }) });
  const secs = (ivs: { start: Date; stop?: Date }[]): (number | undefined)[][] =>
    ivs.map((i) => [(i.start.getTime() - at(0).getTime()) / 1000, i.stop ? (i.stop.getTime() - at(0).getTime()) / 1000 : undefined]);
  assert.deepEqual(secs(mergeIntervals([iv(5, 6), iv(0, 2), iv(1, 3), iv(3, 4)])), [[0, 4], [5, 6]]);
  assert.deepEqual(secs(mergeIntervals([iv(0, 1), iv(0.5), iv(9, 10)])), [[0, undefined]]);
  assert.deepEqual(secs(mergeIntervals([iv(0, 10), iv(2, 3)])), [[0, 10]]);
  assert.deepEqual(mergeIntervals([]), []);
});

test("runSeconds sums merged runs and counts an open run up to now", () => {
  const t = new VertexTable();
  t.apply(vtx("a", "A", { started: 0, completed: 2 }));
  t.apply(vtx("a", "A", { started: 1, completed: 3 }));
  t.apply(vtx("a", "A", { started: 10, completed: 11 }));
  const row = t.rows.get("a");
  assert.ok(row);
  assert.equal(runSeconds(row, at(100)), 4);
  t.apply(vtx("a", "A", { started: 20 }));
  assert.equal(runSeconds(row, at(22.5)), 6.5);
});
