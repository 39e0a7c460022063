import { test } from "node:test";
import assert from "node:assert/strict";
import type { ProgressEvent } from "../../util/progress-event.js";
import { errorSummary } from "./error-summary.js";
import { log, vtx } from "./test-events.js";
import { VertexTable } from "./vertex-table.js";

function table(events: ProgressEvent[]): VertexTable {
  const t = new VertexTable();
  for (const ev of events) t.apply(ev);
  return t;
}

test("each failed vertex gets a dashed block with its timed log lines, in start order", () => {
  const t = table([
    vtx("b", "[2/2] RUN false"),
    vtx("a", "[1/2] RUN make"),
    vtx("a", "[1/2] RUN make", { started: 0 }),
    vtx("b", "[2/2] RUN false", { started: 1 }),
    log("a", 0.25, "cc -c x.c\nx.c:1: error\n"),
    log("b", 1.5, "nope\n"),
    vtx("a", "[1/2] RUN make", { started: 0, completed: 2, error: "exit code: 2" }),
    vtx("b", "[2/2] RUN false", { started: 1, completed: 2, error: "exit code: 1" }),
  ]);
  assert.equal(
    errorSummary(t),
    "------\n > [1/2] RUN make:\n0.250 cc -c x.c\n0.250 x.c:1: error\n------\n" +
      "------\n > [2/2] RUN false:\n0.500 nope\n------\n",
  );
});

test("canceled and successful vertices are left out; no failures gives an empty summary", () => {
  const t = table([
    vtx("a", "ok", { started: 0, completed: 1 }),
    vtx("b", "stopped", { started: 0 }),
    log("b", 0.5, "partial output\n"),
    vtx("b", "stopped", { started: 0, completed: 1, error: "context canceled" }),
  ]);
  assert.equal(errorSummary(t), "");
});

test("only the last maxLines lines are kept, an unfinished last line included", () => {
  const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}\n`).join("");
  const t = table([vtx("r", "run", { started: 0 }), log("r", 0.5, `${lines}tail`), vtx("r", "run", { started: 0, completed: 1, error: "exit code: 2" })]);
  assert.equal(errorSummary(t, 3), "------\n > run:\n0.500 line 11\n0.500 line 12\n0.500 tail\n------\n");
  const ten = errorSummary(t).split("\n").filter((l) => l.startsWith("0.500"));
  assert.equal(ten.length, 10);
  assert.equal(ten[0], "0.500 line 4");
});

test("a failed vertex with no output still gets its block", () => {
  const t = table([vtx("r", "run", { started: 0, completed: 1, error: "boom" })]);
  assert.equal(errorSummary(t), "------\n > run:\n------\n");
});
