import assert from "node:assert/strict";
import { test } from "node:test";
import { createHarness } from "./testing/solver-harness.js";
import type { SolvedOutput } from "./types.js";
import type { FakeResult } from "./testing/fake-result.js";

test("onSolved lists the target and its inputs with the input keys behind each key", async () => {
  const h = createHarness();
  const graph = () => h.bed.edge({ name: "T", deps: [{ selector: "/p" }] }, [h.bed.edge({ name: "A" })]);
  let seen: SolvedOutput<FakeResult>[] = [];
  await h.run(graph(), { onSolved: (outs) => (seen = outs as SolvedOutput<FakeResult>[]) });
  assert.deepEqual(seen.map((o) => o.vertexName), ["T", "A"]);
  const [t, a] = seen;
  assert.equal(t.result.value, "T(A)");
  assert.equal(t.cached, false);
  assert.ok(a.keys.length > 0 && t.keys.length > 0);
  // T's key was computed from A's key with T's selector.
  assert.ok(t.keys.some((k) => k.deps.some((d) => d.selector === "/p" && a.keys.some((ak) => ak.key === d.key))));
  // Saved under the reported keys.
  for (const k of [...t.keys, ...a.keys]) assert.ok(await h.storage.load(k.key).then(async (r) => (await r?.release(), r !== undefined)));

  // A second solve hits T by its definition key: only T is reported, cached, with the same key.
  let again: SolvedOutput<FakeResult>[] = [];
  await h.run(graph(), { onSolved: (outs) => (again = outs as SolvedOutput<FakeResult>[]) });
  assert.deepEqual(again.map((o) => [o.vertexName, o.cached]), [["T", true]]);
  assert.deepEqual(again[0].keys.map((k) => k.key), t.keys.map((k) => k.key));
  assert.deepEqual(again[0].keys[0].deps, t.keys.find((k) => k.key === again[0].keys[0].key)?.deps);
  await h.close();
});
