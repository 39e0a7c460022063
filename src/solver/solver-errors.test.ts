import assert from "node:assert/strict";
import { test } from "node:test";
import { findCause, isCanceled, VertexError } from "../util/errors.js";
import { CANCELED_VERTEX_ERROR } from "./job-progress.js";
import type { ProgressEvent } from "./progress.js";
import type { FakeSpec } from "./testing/fake-op.js";
import type { FakeResult } from "./testing/fake-result.js";
import { createHarness, finalByName } from "./testing/solver-harness.js";

test("an op failure rejects with a VertexError naming the vertex and cancels its siblings", async () => {
  const h = createHarness();
  const a = h.bed.edge({ name: "A", delay: 10, fail: "boom" });
  // Long enough that waiting for it could not pass for cancelling it, however loaded the machine.
  const b = h.bed.edge({ name: "B", delay: 60_000 });
  const events: ProgressEvent[] = [];
  const t0 = performance.now();
  const err = await h.solver.solve(h.bed.edge({ name: "T" }, [a, b]), { progress: (e) => events.push(e) })
    .then(() => assert.fail("solve should fail"), (e: unknown) => e);
  assert.ok(performance.now() - t0 < 30_000, "did not wait for the sibling");
  assert.ok(err instanceof VertexError);
  assert.equal(err.digest, a.vertex.digest);
  assert.equal(err.vertexName, "A");
  assert.equal(err.message, "A: boom");
  assert.equal(h.bed.counters("B").aborted, 1, "B's signal aborted");
  assert.equal(h.bed.counters("T").exec, 0);
  const final = finalByName(events);
  assert.equal(final.get("A")?.error, "boom");
  assert.equal(final.get("B")?.error, CANCELED_VERTEX_ERROR);
  assert.ok(final.get("B")?.completed);
  assert.equal(final.get("T")?.started, undefined);
  await h.close();
});

test("results an op returns after it was canceled are released, and the solve waits for them", async () => {
  const h = createHarness();
  const a = h.bed.edge({ name: "A", delay: 5, fail: "boom" });
  const b = h.bed.edge({ name: "B", delay: 60, ignoreAbort: true, outputs: 2 });
  await assert.rejects(h.run(h.bed.edge({ name: "T" }, [a, b])), /A: boom/);
  assert.equal(h.bed.counters("B").exec, 1);
  assert.equal(h.bed.running, 0, "B finished before the solve settled");
  assert.equal(h.bed.refs.live, 0, "B's late results were released");
  await h.close();
});

test("a failure is not remembered: the next solve runs the op again", async () => {
  const h = createHarness();
  let fail = true;
  const graph = () => h.bed.edge({ name: "T" }, [h.bed.edge({ name: "A", value: () => {
    if (fail) throw new Error("flaky");
    return "ok";
  } })]);
  await assert.rejects(h.run(graph()), (e: unknown) => findCause(e, VertexError)?.vertexName === "A");
  fail = false;
  assert.equal((await h.run(graph())).value, "T(ok)");
  await h.close();
});

test("a failing vertex shared by two solves fails both with the same error, running once", async () => {
  const h = createHarness();
  const x = { name: "X", delay: 20, fail: "bad" };
  const results = await Promise.allSettled([
    h.run(h.bed.edge({ name: "T1" }, [h.bed.edge(x)])),
    h.run(h.bed.edge({ name: "T2" }, [h.bed.edge(x)])),
  ]);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.equal((r.reason as VertexError).vertexName, "X");
  }
  assert.equal(h.bed.counters("X").exec, 1);
  await h.close();
});

test("aborting the signal rejects with Canceled and aborts the running op", async () => {
  const h = createHarness();
  const ctrl = new AbortController();
  const events: ProgressEvent[] = [];
  setTimeout(() => ctrl.abort(), 20);
  const t0 = performance.now();
  await assert.rejects(
    h.solver.solve(h.bed.edge({ name: "T" }, [h.bed.edge({ name: "X", delay: 60_000 })]),
      { signal: ctrl.signal, progress: (e) => events.push(e) }),
    (e: unknown) => isCanceled(e) && !(e instanceof VertexError));
  assert.ok(performance.now() - t0 < 30_000, "did not wait for the op");
  assert.equal(h.bed.counters("X").aborted, 1);
  assert.equal(finalByName(events).get("X")?.error, CANCELED_VERTEX_ERROR);
  await h.close();
});

test("a solve whose signal is already aborted rejects at once", async () => {
  const h = createHarness();
  await assert.rejects(h.run(h.bed.edge({ name: "X" }), { signal: AbortSignal.abort() }), isCanceled);
  assert.equal(h.bed.counters("X").exec, 0);
  await h.close();
});

test("canceling one solve keeps a vertex running that another solve still needs", async () => {
  const h = createHarness();
  const ctrl = new AbortController();
  const x = { name: "X", delay: 80 };
  const first = h.run(h.bed.edge({ name: "T1" }, [h.bed.edge(x)]), { signal: ctrl.signal });
  const second = h.run(h.bed.edge({ name: "T2" }, [h.bed.edge(x)]));
  setTimeout(() => ctrl.abort(), 20);
  await assert.rejects(first, isCanceled);
  assert.equal((await second).value, "T2(X)");
  assert.equal(h.bed.counters("X").exec, 1);
  assert.equal(h.bed.counters("X").aborted, 0);
  await h.close();
});

test("a cancel while waiting for a parallelism slot releases everything", async () => {
  const h = createHarness({ parallelism: 1 });
  const ctrl = new AbortController();
  const leaves = [h.bed.edge({ name: "A", delay: 60 }), h.bed.edge({ name: "B", delay: 60 })];
  setTimeout(() => ctrl.abort(), 20);
  await assert.rejects(h.run(h.bed.edge({ name: "T" }, leaves), { signal: ctrl.signal }), isCanceled);
  assert.equal(h.bed.counters("A").exec + h.bed.counters("B").exec, 1, "the second never got a slot");
  // The solver is usable afterwards: slots were given back.
  assert.equal((await h.run(h.bed.edge({ name: "C", delay: 1 }))).value, "C");
  await h.close();
});

test("close cancels running solves and refuses new ones", async () => {
  const h = createHarness();
  const running = h.run(h.bed.edge({ name: "X", delay: 1000 }));
  await new Promise((r) => setTimeout(r, 10));
  await h.solver.close();
  await assert.rejects(running, isCanceled);
  await assert.rejects(h.run(h.bed.edge({ name: "Y" })), /closed/);
  await h.close();
});

test("a cacheMap failure is a VertexError of that vertex", async () => {
  const h = createHarness();
  const bad = h.bed.vertex({ name: "A" });
  const resolveOp = h.bed.resolveOp;
  const broken = { ...bad, payload: { ...bad.payload, cacheMapDelay: 1 } };
  const { createSolver } = await import("./solver.js");
  const solver = createSolver<FakeSpec, FakeResult>({
    resolveOp: (v) => {
      const op = resolveOp(v);
      if (v !== broken) return op;
      return { exec: (ctx, inputs) => op.exec(ctx, inputs), cacheMap: async () => { throw new Error("no map"); } };
    },
    results: h.storage,
  });
  await assert.rejects(solver.solve(h.bed.edge({ name: "T" }, [{ vertex: broken, index: 0 }])),
    (e: unknown) => e instanceof VertexError && e.vertexName === "A" && e.message === "A: no map");
  await solver.close();
  await h.close();
});

test("an op resolver failure is reported once as a VertexError of that vertex", async () => {
  const h = createHarness();
  const { createSolver } = await import("./solver.js");
  const solver = createSolver<FakeSpec, FakeResult>({
    resolveOp: (v) => {
      if (v.name === "A") throw new Error("unknown op");
      return h.bed.resolveOp(v);
    },
    results: h.storage,
  });
  const events: ProgressEvent[] = [];
  const a = h.bed.edge({ name: "A" });
  await assert.rejects(solver.solve(h.bed.edge({ name: "T" }, [a, a]), { progress: (e) => events.push(e) }),
    (e: unknown) => e instanceof VertexError && e.message === "A: unknown op" && !(e.cause instanceof VertexError));
  const aEvents = events.filter((e) => e.type === "vertex" && e.name === "A" && e.completed);
  assert.equal(aEvents.length, 1);
  assert.equal(aEvents[0].type === "vertex" && aEvents[0].error, "unknown op");
  await solver.close();
  await h.close();
});
