import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEvent, VertexEvent } from "./progress.js";
import type { FakeSpec } from "./testing/fake-op.js";
import type { FakeResult } from "./testing/fake-result.js";
import { createHarness, finalByName, vertexEvents } from "./testing/solver-harness.js";

test("progress announces the whole graph first, then start and completion of each vertex", async () => {
  const h = createHarness();
  const a = h.bed.edge({ name: "A", delay: 5 });
  const b = h.bed.edge({ name: "B" });
  const t = h.bed.edge({ name: "T" }, [a, b]);
  const { events } = await h.run(t);
  const vertices = vertexEvents(events);
  const announced = vertices.slice(0, 3);
  assert.deepEqual(announced.map((e) => e.name).sort(), ["A", "B", "T"]);
  for (const e of announced) assert.deepEqual(Object.keys(e).sort(), ["digest", "inputs", "name", "type"]);
  assert.deepEqual(announced.find((e) => e.name === "T")?.inputs, [a.vertex.digest, b.vertex.digest]);
  assert.equal(announced.find((e) => e.name === "T")?.digest, t.vertex.digest);

  const byName = (name: string): VertexEvent[] => vertices.slice(3).filter((e) => e.name === name);
  for (const name of ["A", "B", "T"]) {
    const [started, completed, ...rest] = byName(name);
    assert.equal(rest.length, 0, `${name}: two events`);
    assert.ok(started.started && !started.completed, `${name}: started first`);
    assert.ok(completed.completed && completed.started === started.started, `${name}: then completed`);
    assert.equal(completed.cached, undefined);
    assert.equal(completed.error, undefined);
  }
  const order = vertices.map((e) => `${e.name}${e.completed ? "+" : e.started ? "-" : ""}`);
  assert.ok(order.indexOf("T-") > order.indexOf("A+") && order.indexOf("T-") > order.indexOf("B+"));

  const logs = events.filter((e): e is LogEvent => e.type === "log");
  const aLog = logs.find((l) => l.vertex === a.vertex.digest);
  assert.equal(new TextDecoder().decode(aLog?.data), "running A\n");
  assert.equal(aLog?.stream, 1);
  await h.close();
});

test("a cached vertex is reported started and completed with cached=true; unrun inputs are cached too", async () => {
  const h = createHarness();
  const graph = () => h.bed.edge({ name: "T" }, [h.bed.edge({ name: "A" }, [h.bed.edge({ name: "S" })])]);
  await h.run(graph());
  const { events } = await h.run(graph());
  const vertices = vertexEvents(events).slice(3);
  const t = vertices.filter((e) => e.name === "T");
  assert.equal(t.length, 2);
  assert.ok(t[0].started && !t[0].completed && t[0].cached);
  assert.ok(t[1].completed && t[1].cached);
  const final = finalByName(events);
  for (const name of ["A", "S"]) {
    const e = final.get(name);
    assert.equal(e?.cached, true, name);
    assert.equal(e?.started?.getTime(), t[0].started?.getTime(), `${name} started when T did`);
    assert.equal(e?.completed?.getTime(), t[0].started?.getTime());
  }
  // The inputs' cached marks come before T's own start event.
  assert.ok(vertices.findIndex((e) => e.name === "S") < vertices.indexOf(t[0]));
  await h.close();
});

test("ops report status lines and warnings to every job sharing the vertex", async () => {
  const h = createHarness();
  const x = h.bed.vertex({ name: "X", delay: 40 });
  const resolveOp = h.bed.resolveOp;
  const { createSolver } = await import("./solver.js");
  const solver = createSolver<FakeSpec, FakeResult>({
    resolveOp: (v) => {
      const op = resolveOp(v);
      return {
        cacheMap: (ctx) => op.cacheMap(ctx),
        exec: async (ctx, inputs) => {
          ctx.progress.status("download", 1, 4);
          ctx.progress.statusDone("download");
          ctx.progress.warn("careful", ["detail"]);
          return op.exec(ctx, inputs);
        },
      };
    },
    results: h.storage,
  });
  const seen: string[][] = [[], []];
  await Promise.all(seen.map(async (log) => {
    const r = await solver.solve({ vertex: x, index: 0 }, {
      progress: (e) => {
        if (e.type === "status") log.push(`${e.id} ${e.current}/${e.total}${e.completed ? " done" : ""}`);
        if (e.type === "warning") log.push(`warn ${e.short} ${e.vertex === x.digest}`);
      },
    });
    await r.release();
  }));
  for (const log of seen) assert.deepEqual(log, ["download 1/4", "download 1/4 done", "warn careful true"]);
  await solver.close();
  await h.close();
});
