import assert from "node:assert/strict";
import { test } from "node:test";
import { ignoreCacheId } from "./solver.js";
import { createHarness, finalByName, vertexEvents } from "./testing/solver-harness.js";

test("independent branches run in parallel", async () => {
  const h = createHarness();
  const a = h.bed.edge({ name: "A", delay: 100 });
  const b = h.bed.edge({ name: "B", delay: 100 });
  const { value } = await h.run(h.bed.edge({ name: "T" }, [a, b]));
  assert.equal(value, "T(A,B)");
  // Counted, not timed: a loaded machine stretches durations but not this.
  assert.equal(h.bed.maxRunning, 2, "A and B were running at the same time");
  await h.close();
});

test("the parallelism limit bounds running execs; op acquire is called per exec", async () => {
  const h = createHarness({ parallelism: 2 });
  const leaves = Array.from({ length: 6 }, (_, i) => h.bed.edge({ name: `L${i}`, delay: 20, acquire: true }));
  const { value } = await h.run(h.bed.edge({ name: "T" }, leaves));
  assert.equal(value, "T(L0,L1,L2,L3,L4,L5)");
  assert.equal(h.bed.maxRunning, 2);
  for (let i = 0; i < 6; i++) assert.equal(h.bed.counters(`L${i}`).acquire, 1);
  await h.close();
});

test("a vertex twice in one graph runs once", async () => {
  const h = createHarness();
  const x1 = h.bed.edge({ name: "X", delay: 10 });
  const x2 = h.bed.edge({ name: "X", delay: 10 });
  assert.notEqual(x1.vertex, x2.vertex);
  const { value } = await h.run(h.bed.edge({ name: "T" }, [x1, x2]));
  assert.equal(value, "T(X,X)");
  assert.equal(h.bed.counters("X").exec, 1);
  assert.equal(h.bed.counters("X").cacheMap, 1);
  await h.close();
});

test("a vertex shared by two concurrent solves runs once and both get their own reference", async () => {
  const h = createHarness();
  const x = { name: "X", delay: 50 };
  const t1 = h.bed.edge({ name: "T1" }, [h.bed.edge(x)]);
  const t2 = h.bed.edge({ name: "T2" }, [h.bed.edge(x)]);
  const [r1, r2, r3] = await Promise.all([h.run(t1), h.run(t2), h.run(t2)]);
  assert.deepEqual([r1.value, r2.value, r3.value], ["T1(X)", "T2(X)", "T2(X)"]);
  assert.equal(h.bed.counters("X").exec, 1);
  assert.equal(h.bed.counters("T2").exec, 1);
  // The second solve joined while X ran: it still learns X's start and completion.
  const x2 = vertexEvents(r2.events).filter((e) => e.name === "X");
  assert.ok(x2.some((e) => e.started) && x2.at(-1)?.completed);
  await h.close();
});

test("a vertex with several outputs executes once for all of them", async () => {
  const h = createHarness();
  const m = h.bed.vertex({ name: "M", outputs: 2 });
  const { value } = await h.run(h.bed.edge({ name: "T" }, [{ vertex: m, index: 0 }, { vertex: m, index: 1 }]));
  assert.equal(value, "T(M,M#1)");
  assert.equal(h.bed.counters("M").exec, 1);
  await h.close();
});

test("a second solve of the same graph is all CACHED and executes nothing", async () => {
  const h = createHarness();
  const graph = () => {
    const a = h.bed.edge({ name: "A" });
    const b = h.bed.edge({ name: "B" }, [a]);
    const c = h.bed.edge({ name: "C" });
    return h.bed.edge({ name: "T" }, [b, c]);
  };
  const first = await h.run(graph());
  const second = await h.run(graph());
  assert.equal(second.value, first.value);
  for (const name of ["A", "B", "C", "T"]) assert.equal(h.bed.counters(name).exec, 1, name);
  const final = finalByName(second.events);
  assert.equal(final.size, 4);
  for (const [name, e] of final) {
    assert.equal(e.cached, true, `${name} cached`);
    assert.ok(e.started && e.completed, `${name} completed`);
    assert.equal(e.error, undefined);
  }
  // Lazy: T was found by its definition key, so nothing below it was looked up at all.
  assert.equal(h.storage.keys().length, 4);
  await h.close();
});

test("changing one input re-runs only its dependants", async () => {
  const h = createHarness();
  const graph = (aKey: string) => h.bed.edge({ name: "T" },
    [h.bed.edge({ name: "A", cacheKey: aKey }), h.bed.edge({ name: "B" })]);
  await h.run(graph("a1"));
  const second = await h.run(graph("a2"));
  assert.equal(h.bed.counters("A").exec, 2);
  assert.equal(h.bed.counters("T").exec, 2);
  assert.equal(h.bed.counters("B").exec, 1);
  const final = finalByName(second.events);
  assert.equal(final.get("B")?.cached, true);
  assert.notEqual(final.get("T")?.cached, true);
  await h.close();
});

test("a content digest keeps a dependant cached when its input's key changed but not its content", async () => {
  const h = createHarness();
  const graph = (aKey: string, value: string) => h.bed.edge({ name: "T", deps: [{ content: true }] },
    [h.bed.edge({ name: "A", cacheKey: aKey, value })]);
  await h.run(graph("a1", "same"));
  const second = await h.run(graph("a2", "same"));
  assert.equal(h.bed.counters("A").exec, 2);
  assert.equal(h.bed.counters("T").exec, 1);
  assert.equal(finalByName(second.events).get("T")?.cached, true);
  const third = await h.run(graph("a3", "other"));
  assert.equal(third.value, "T(other)");
  assert.equal(h.bed.counters("T").exec, 2);
  await h.close();
});

test("an alwaysRun source re-runs; its dependant stays cached by content; other inputs are not run", async () => {
  const h = createHarness();
  let content = "v1";
  const graph = () => h.bed.edge({ name: "D", deps: [{}, { content: true }] }, [
    h.bed.edge({ name: "I" }),
    h.bed.edge({ name: "L", alwaysRun: true, value: () => content }),
  ]);
  await h.run(graph());
  const second = await h.run(graph());
  assert.equal(h.bed.counters("L").exec, 2);
  assert.equal(h.bed.counters("D").exec, 1);
  assert.equal(h.bed.counters("I").exec, 1);
  const final = finalByName(second.events);
  assert.equal(final.get("D")?.cached, true);
  assert.equal(final.get("I")?.cached, true);
  assert.notEqual(final.get("L")?.cached, true);
  content = "v2";
  const third = await h.run(graph());
  assert.equal(third.value, "D(I,v2)");
  assert.equal(h.bed.counters("D").exec, 2);
  assert.equal(h.bed.counters("I").exec, 1, "I found by its definition key");
  await h.close();
});

test("noCache re-runs everything but still saves, so the next solve is cached", async () => {
  const h = createHarness();
  const graph = () => h.bed.edge({ name: "T" }, [h.bed.edge({ name: "A" })]);
  await h.run(graph());
  await h.run(graph(), { noCache: true });
  assert.equal(h.bed.counters("A").exec, 2);
  assert.equal(h.bed.counters("T").exec, 2);
  const third = await h.run(graph());
  assert.equal(h.bed.counters("T").exec, 2);
  assert.equal(finalByName(third.events).get("T")?.cached, true);
  await h.close();
});

test("an ignoreCache vertex re-runs and its dependants cannot match through it", async () => {
  const h = createHarness();
  const graph = (ignoreCache: boolean) => h.bed.edge({ name: "C" },
    [h.bed.edge({ name: "B", ignoreCache }, [h.bed.edge({ name: "A" })])]);
  await h.run(graph(false));
  const second = await h.run(graph(true));
  assert.equal(h.bed.counters("A").exec, 1);
  assert.equal(h.bed.counters("B").exec, 2);
  assert.equal(h.bed.counters("C").exec, 2);
  assert.equal(finalByName(second.events).get("A")?.cached, true);
  await h.close();
});

test("noCache as a function picks the vertices that skip lookups", async () => {
  const h = createHarness();
  const graph = () => h.bed.edge({ name: "T", deps: [{}, { content: true }] },
    [h.bed.edge({ name: "A" }), h.bed.edge({ name: "B" })]);
  await h.run(graph());
  await h.run(graph(), { noCache: (v) => v.name === "B" });
  assert.equal(h.bed.counters("A").exec, 1);
  assert.equal(h.bed.counters("B").exec, 2);
  assert.equal(h.bed.counters("T").exec, 1, "T still matches by B's unchanged content");
  await h.close();
});

test("an ignoreCache vertex does not merge into an active cached one, but cached ones merge into it", async () => {
  const h = createHarness();
  const x = (ignoreCache: boolean) => h.bed.edge({ name: "X", delay: 40, ignoreCache });
  const [plain, ignoring] = await Promise.all([h.run(x(false)), h.run(x(true))]);
  assert.equal(h.bed.counters("X").exec, 2);
  const plainDigest = x(false).vertex.digest;
  assert.ok(vertexEvents(plain.events).every((e) => e.digest === plainDigest));
  assert.ok(vertexEvents(ignoring.events).every((e) => e.digest === ignoreCacheId(plainDigest)));

  const h2 = createHarness();
  const y = (ignoreCache: boolean) => h2.bed.edge({ name: "Y", delay: 40, ignoreCache });
  const first = h2.run(y(true));
  await new Promise((r) => setTimeout(r, 5));
  await Promise.all([first, h2.run(y(false))]);
  assert.equal(h2.bed.counters("Y").exec, 1);
  await h.close();
  await h2.close();
});
