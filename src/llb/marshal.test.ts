import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  DefinitionSchema, FileActionMkDirSchema, FileActionSchema, FileOpSchema, OpMetadataSchema, OpSchema, SourceOpSchema,
} from "../gen/pb/ops_pb.js";
import { loadDefinition } from "./definition.js";
import { marshalDefinitionMessage, marshalMessage, marshalOp } from "./marshal.js";
import { CASES, readCasePb } from "./testing/conformance.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

for (const name of CASES) {
  test(`re-marshalling every op of ${name}.pb gives the original bytes`, () => {
    const def = loadDefinition(readCasePb(name));
    for (const entry of def.entries) assert.equal(hex(marshalOp(entry.op)), hex(entry.bytes), entry.digest);
  });

  test(`re-marshalling ${name}.pb as a whole gives the original bytes`, () => {
    const bytes = readCasePb(name);
    assert.equal(hex(marshalDefinitionMessage(fromBinary(DefinitionSchema, bytes))), hex(bytes));
  });
}

test("map entries are sorted by key bytes, whatever the insertion order", () => {
  const op = create(OpSchema, {
    op: { case: "source", value: create(SourceOpSchema, { identifier: "x", attrs: { b: "2", "9": "z", a: "1", "10": "y" } }) },
  });
  const again = create(OpSchema, {
    op: { case: "source", value: create(SourceOpSchema, { identifier: "x", attrs: { a: "1", "10": "y", b: "2", "9": "z" } }) },
  });
  assert.equal(hex(marshalOp(op)), hex(marshalOp(again)));
  const decoded = fromBinary(OpSchema, marshalOp(op));
  const attrs = decoded.op.case === "source" ? decoded.op.value.attrs : {};
  assert.deepEqual(attrs, { "10": "y", "9": "z", a: "1", b: "2" });
  // Go's order is "10" < "9" < "a" < "b"; check the bytes, as JS objects reorder integer-like keys.
  const h = hex(marshalOp(op));
  const at = (key: string): number => h.indexOf(`0a${key.length.toString(16).padStart(2, "0")}${Buffer.from(key).toString("hex")}`);
  const positions = ["10", "9", "a", "b"].map(at);
  assert.ok(positions.every((p) => p > 0));
  assert.deepEqual([...positions].sort((x, y) => x - y), positions, "keys out of order");
});

test("zero values are omitted, presence-only messages and negative ints are kept", () => {
  const op = create(OpSchema, {
    constraints: {},
    op: { case: "file", value: create(FileOpSchema, {
      actions: [create(FileActionSchema, {
        input: 0n, secondaryInput: -1n, output: 0n,
        action: { case: "mkdir", value: create(FileActionMkDirSchema, { path: "/p", mode: 0, timestamp: -1n }) },
      })],
    }) },
  });
  const bytes = marshalOp(op);
  // Equal to protobuf-es for messages without maps, so only ordering is ours.
  assert.equal(hex(bytes), hex(toBinary(OpSchema, op)));
  assert.ok(hex(bytes).endsWith("5a00"), "empty constraints message must still be written");
  assert.ok(hex(bytes).includes("10ffffffffffffffffff01"), "secondaryInput -1 is a 10-byte varint");
});

test("map values are written even when zero", () => {
  const md = create(OpMetadataSchema, { caps: { off: false }, description: { empty: "" } });
  const back = fromBinary(OpMetadataSchema, marshalMessage(OpMetadataSchema, md));
  assert.deepEqual(back.caps, { off: false });
  assert.deepEqual(back.description, { empty: "" });
  assert.ok(hex(marshalMessage(OpMetadataSchema, md)).includes("1000"), "false value is encoded explicitly");
});
