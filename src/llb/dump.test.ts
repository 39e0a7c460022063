import assert from "node:assert/strict";
import { test } from "node:test";
import { loadDefinition } from "./definition.js";
import { dumpDefinition, dumpDot, formatDump } from "./dump.js";
import { encodeGoJson } from "./go-json.js";
import { CASES, readCaseDump, readCaseDumpObjects, readCasePb } from "./testing/conformance.js";

for (const name of CASES) {
  test(`dump of ${name}.pb equals buildctl's JSON`, () => {
    const def = loadDefinition(readCasePb(name));
    assert.deepEqual(dumpDefinition(def), readCaseDumpObjects(name));
  });

  test(`dump text of ${name}.pb is byte-identical to buildctl's`, () => {
    assert.equal(formatDump(loadDefinition(readCasePb(name))), readCaseDump(name));
  });
}

test("dot output has a node per entry and labelled edges", () => {
  const def = loadDefinition(readCasePb("link-merge"));
  const dot = dumpDot(def);
  const lines = dot.trimEnd().split("\n");
  assert.equal(lines[0], "digraph {");
  assert.equal(lines[lines.length - 1], "}");
  const nodes = lines.filter((l) => l.includes("shape="));
  assert.equal(nodes.length, def.entries.length);
  assert.ok(nodes.some((l) => l.includes('[label="merge" shape="invtriangle"]')));
  assert.ok(nodes.some((l) => l.includes('[label="copy{src=/out, dest=/out}" shape="note"]')));
  const edges = lines.filter((l) => l.includes(" -> "));
  assert.equal(edges.length, def.entries.reduce((n, e) => n + e.op.inputs.length, 0));
});

test("Go JSON escaping matches encoding/json", () => {
  assert.equal(encodeGoJson("a<b>&c\u2028\\b\b"), '"a\\u003cb\\u003e\\u0026c\\u2028\\\\b\\u0008"');
  assert.equal(encodeGoJson(new Map<string, number | bigint>([["b", 1], ["a", 2n ** 62n]])), '{"a":4611686018427387904,"b":1}');
});
