import { test } from "node:test";
import assert from "node:assert/strict";
import { listTargets, printTargets, targetsResultMetadata } from "./targets.js";
import { printDescribe, SUBREQUEST_DEFINITIONS, describeResultMetadata } from "./describe.js";
import { formatColumns } from "./tab-writer.js";
import { marshalIndent } from "./marshal-indent.js";

// Upstream's testTargetsList Dockerfile.
const DOCKERFILE = `
# build defines stage for compiling the binary
FROM alpine AS build
RUN true

FROM busybox as second
RUN false

FROM --platform=$BUILDPLATFORM alpine
RUN false

# binary returns the compiled binary
FROM second AS binary
`;

test("targets lists every stage in order with doc comments, bases, platforms and lines; the last is the default", () => {
  const list = listTargets(new TextEncoder().encode(DOCKERFILE));
  assert.deepEqual(list.sources, [Buffer.from(DOCKERFILE).toString("base64")]);
  assert.deepEqual(list.targets, [
    { name: "build", description: "defines stage for compiling the binary", base: "alpine", location: { ranges: [{ start: { line: 3 }, end: { line: 3 } }] } },
    { name: "second", base: "busybox", location: { ranges: [{ start: { line: 6 }, end: { line: 6 } }] } },
    { base: "alpine", platform: "$BUILDPLATFORM", location: { ranges: [{ start: { line: 9 }, end: { line: 9 } }] } },
    { name: "binary", default: true, description: "returns the compiled binary", base: "second", location: { ranges: [{ start: { line: 13 }, end: { line: 13 } }] } },
  ]);
  assert.equal(printTargets(list), [
    "TARGET           DESCRIPTION",
    "build            defines stage for compiling the binary",
    "second           ",
    "                 ",
    "binary (default) returns the compiled binary",
    "",
  ].join("\n"));
  const md = targetsResultMetadata(list);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(md["result.json"])), list);
  assert.equal(new TextDecoder().decode(md.version), "1.0.0");
});

test("a single unnamed stage prints as (default)", () => {
  assert.equal(printTargets(listTargets(new TextEncoder().encode("FROM scratch\n"))), "TARGET    DESCRIPTION\n(default) \n");
});

test("describe lists outline, targets, lint and itself with versions, as upstream's Request JSON", () => {
  const md = describeResultMetadata();
  const reqs = JSON.parse(new TextDecoder().decode(md["result.json"])) as Array<Record<string, unknown>>;
  assert.deepEqual(reqs.map((r) => r.name), ["frontend.outline", "frontend.targets", "frontend.lint", "frontend.subrequests.describe"]);
  assert.deepEqual(Object.keys(reqs[0]), ["name", "version", "type", "description", "opts", "inputs", "metadata", "refs"]);
  assert.equal(reqs[0].type, "rpc");
  assert.equal(reqs[3].opts, null);
  assert.equal(printDescribe(SUBREQUEST_DEFINITIONS), [
    "NAME                 VERSION DESCRIPTION",
    "outline              1.0.0   List all parameters current build target supports",
    "targets              1.0.0   List all targets current build supports",
    "lint                 1.0.0   Lint a Dockerfile",
    "subrequests.describe 1.0.0   List available subrequest types",
    "",
  ].join("\n"));
});

test("columns pad each cell but a row's last to the widest plus padding; JSON escapes as Go's", () => {
  assert.equal(formatColumns([["a", "bb", "c"], ["ccc", "", "d"]], 2), "a    bb  c\nccc      d\n");
  assert.equal(formatColumns([["é", "x"], ["ab", "y"]], 1), "é  x\nab y\n");
  assert.equal(marshalIndent({ a: "<&>", b: [] }), '{\n  "a": "\\u003c\\u0026\\u003e",\n  "b": []\n}');
});
