import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { DefinitionSchema, InputSchema, OpSchema, SourceOpSchema } from "../gen/pb/ops_pb.js";
import { GantryError } from "../util/errors.js";
import { sha256 } from "../util/digest.js";
import { loadDefinition } from "./definition.js";
import { marshalDefinitionMessage, marshalOp } from "./marshal.js";
import { CASES, readCaseDumpObjects, readCasePb } from "./testing/conformance.js";

for (const name of CASES) {
  test(`loads ${name}.pb with upstream's digests`, () => {
    const def = loadDefinition(readCasePb(name));
    const expected = readCaseDumpObjects(name);
    assert.deepEqual(def.entries.map((e) => e.digest), expected.map((e) => e.Digest));
    assert.equal(def.ops.size, expected.length - 1);
    const terminal = expected[expected.length - 1].Op as { inputs: { digest: string; index: number }[] };
    assert.deepEqual(def.terminal, terminal.inputs[0]);
    for (const entry of def.entries) assert.equal(entry.digest, sha256(entry.bytes));
  });
}

function expectInvalid(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => loadDefinition(bytes), (err: unknown) => {
    assert.ok(err instanceof GantryError);
    assert.equal(err.code, "InvalidArgument");
    assert.match(err.message, /^The LLB definition is malformed: /);
    assert.match(err.message, pattern);
    return true;
  });
}

const source = (id: string) => create(OpSchema, {
  op: { case: "source", value: create(SourceOpSchema, { identifier: id }) },
});
const terminalFor = (digest: string, inputs = 1) => create(OpSchema, {
  inputs: Array.from({ length: inputs }, () => create(InputSchema, { digest, index: 0n })),
});
const defOf = (...ops: Uint8Array[]) => marshalDefinitionMessage(create(DefinitionSchema, { def: ops }));

test("truncated definition bytes are InvalidArgument", () => {
  const bytes = readCasePb("seed");
  expectInvalid(bytes.subarray(0, bytes.length - 40), /not a protobuf Definition|not a protobuf Op/);
});

test("garbage bytes are InvalidArgument", () => {
  expectInvalid(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), /not a protobuf Definition/);
});

test("a definition with fewer than two entries is rejected", () => {
  expectInvalid(new Uint8Array(), /0 entries/);
  expectInvalid(defOf(marshalOp(source("local://a"))), /1 entry, but at least two/);
});

test("a last entry that is an operation is not a terminal", () => {
  const a = marshalOp(source("local://a"));
  expectInvalid(defOf(a, marshalOp(source("local://b"))), /last entry .* is a source operation/);
});

test("a terminal needs exactly one input", () => {
  const a = marshalOp(source("local://a"));
  expectInvalid(defOf(a, marshalOp(terminalFor(sha256(a), 2))), /has 2 inputs; it must have exactly one/);
});

test("an input naming an unknown vertex is rejected", () => {
  const a = marshalOp(source("local://a"));
  const missing = sha256("nothing");
  const user = marshalOp(create(OpSchema, {
    inputs: [create(InputSchema, { digest: missing, index: 0n })],
    op: { case: "merge", value: { $typeName: "pb.MergeOp", inputs: [] } },
  }));
  expectInvalid(defOf(a, user, marshalOp(terminalFor(sha256(user)))), new RegExp(`names "${missing}", which is not a vertex`));
  expectInvalid(defOf(a, marshalOp(terminalFor(missing))), /terminal entry names .* not a vertex/);
});

test("an entry without an operation before the end is rejected", () => {
  const a = marshalOp(source("local://a"));
  const empty = marshalOp(create(OpSchema));
  expectInvalid(defOf(empty, a, marshalOp(terminalFor(sha256(a)))), /entry 0 .* has no operation/);
});

test("metadata and source map are exposed", () => {
  const def = loadDefinition(readCasePb("seed"));
  const first = def.entries[0].digest;
  assert.equal(def.metadata.get(first)?.caps["source.image"], true);
  assert.ok(def.source);
  assert.ok(first in (def.source?.locations ?? {}));
});
