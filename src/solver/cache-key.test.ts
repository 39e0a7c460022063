import assert from "node:assert/strict";
import { test } from "node:test";
import { cacheKeyOf, combineDepKeys, isMatchable, uniqueDepKeys, type DepKey } from "./cache-key.js";

const k = (key: string, matchable = true, selector?: string): DepKey => ({ key, matchable, selector });

test("a cache key depends on digest, output, input keys, selectors and their order, not on matchable", () => {
  const base = cacheKeyOf("d", 0, [k("a"), k("b")]);
  assert.match(base, /^sha256:[0-9a-f]{64}$/);
  assert.equal(cacheKeyOf("d", 0, [k("a", false), k("b")]), base);
  for (const other of [
    cacheKeyOf("e", 0, [k("a"), k("b")]),
    cacheKeyOf("d", 1, [k("a"), k("b")]),
    cacheKeyOf("d", 0, [k("b"), k("a")]),
    cacheKeyOf("d", 0, [k("a", true, "/src"), k("b")]),
    cacheKeyOf("d", 0, [k("a")]),
  ]) assert.notEqual(other, base);
});

test("combinations pick one alternative per input, bounded, none when an input has none", () => {
  const combos = combineDepKeys([[k("a1"), k("a2")], [k("b1"), k("b2", false)]]);
  assert.deepEqual(combos.map((c) => c.map((d) => d.key).join("+")), ["a1+b1", "a1+b2", "a2+b1", "a2+b2"]);
  assert.deepEqual(combos.map(isMatchable), [true, false, true, false]);
  assert.deepEqual(combineDepKeys([]), [[]], "a vertex without inputs has one (empty) combination");
  assert.deepEqual(combineDepKeys([[k("a")], []]), []);
  const many = Array.from({ length: 5 }, () => [k("x"), k("y")]);
  assert.equal(combineDepKeys(many, 16).length, 16);
});

test("duplicate alternatives collapse; a matchable duplicate wins", () => {
  const out = uniqueDepKeys([k("a", false), k("a", true), k("a", true, "/s")]);
  assert.deepEqual(out, [k("a", true), k("a", true, "/s")]);
});
