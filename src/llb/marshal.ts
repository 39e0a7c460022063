// Deterministic protobuf encoding of LLB messages, byte-identical to upstream's Go client (gogo's stable
// marshaler, later protobuf-go with Deterministic): fields in number order, map entries sorted by key and
// always carrying both key and value, proto3 zero values omitted, message fields written when present
// (even when empty), unknown fields appended last. protobuf-es's toBinary matches all of this except
// map order (it follows insertion order, and JS objects put integer-like keys first), so vertex digests
// would drift; hence this small writer.
import { ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { Buffer } from "node:buffer";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { DefinitionSchema, OpSchema, type Definition, type Op } from "../gen/pb/ops_pb.js";

type Fields = Record<string, unknown>;

/** Encodes an Op exactly as Go's client would; the digest of these bytes is the vertex digest. */
export function marshalOp(op: Op): Uint8Array {
  return marshalMessage(OpSchema, op);
}

/** Encodes a Definition deterministically (metadata sorted by digest). */
export function marshalDefinitionMessage(def: Definition): Uint8Array {
  return marshalMessage(DefinitionSchema, def);
}

/** Deterministic encoding of any generated message. */
export function marshalMessage<T extends Message>(schema: DescMessage, message: T): Uint8Array {
  const writer = new BinaryWriter();
  writeMessage(writer, schema, message as unknown as Fields);
  return writer.finish();
}

const sortedFieldsCache = new WeakMap<DescMessage, DescField[]>();

function sortedFields(desc: DescMessage): DescField[] {
  let fields = sortedFieldsCache.get(desc);
  if (fields === undefined) {
    fields = desc.fields.concat().sort((a, b) => a.number - b.number);
    sortedFieldsCache.set(desc, fields);
  }
  return fields;
}

function writeMessage(w: BinaryWriter, desc: DescMessage, msg: Fields): void {
  for (const field of sortedFields(desc)) writeField(w, field, msg);
  const unknown = msg.$unknown as { no: number; wireType: WireType; data: Uint8Array }[] | undefined;
  for (const u of unknown ?? []) w.tag(u.no, u.wireType).raw(u.data);
}

function writeField(w: BinaryWriter, field: DescField, msg: Fields): void {
  if (field.oneof) {
    // A oneof member is written whenever its case is selected, zero value or not (it has presence).
    const oneof = msg[field.oneof.localName] as { case?: string; value?: unknown };
    if (oneof.case === field.localName) writeSingular(w, field, oneof.value);
    return;
  }
  const value = msg[field.localName];
  switch (field.fieldKind) {
    case "message":
      if (value !== undefined) writeSingular(w, field, value);
      return;
    case "scalar":
      if (!isZeroScalar(field.scalar, value)) writeSingular(w, field, value);
      return;
    case "enum":
      if (value !== 0) writeSingular(w, field, value);
      return;
    case "list":
      writeList(w, field, value as unknown[]);
      return;
    case "map":
      writeMap(w, field, value as Record<string, unknown>);
      return;
  }
}

function writeSingular(w: BinaryWriter, field: DescField, value: unknown): void {
  if (field.fieldKind === "message") {
    writeNested(w, field.number, field.message, value);
  } else if (field.fieldKind === "scalar") {
    w.tag(field.number, wireTypeOf(field.scalar));
    writeScalar(w, field.scalar, value);
  } else if (field.fieldKind === "enum") {
    w.tag(field.number, WireType.Varint).int32(value as number);
  }
}

function writeNested(w: BinaryWriter, no: number, desc: DescMessage, value: unknown): void {
  w.tag(no, WireType.LengthDelimited).fork();
  writeMessage(w, desc, value as Fields);
  w.join();
}

function writeList(w: BinaryWriter, field: DescField & { fieldKind: "list" }, items: unknown[]): void {
  if (items.length === 0) return;
  if (field.listKind === "message") {
    for (const item of items) writeNested(w, field.number, field.message, item);
    return;
  }
  const scalar = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
  if (field.packed) {
    w.tag(field.number, WireType.LengthDelimited).fork();
    for (const item of items) writeScalar(w, scalar, item);
    w.join();
    return;
  }
  for (const item of items) {
    w.tag(field.number, wireTypeOf(scalar));
    writeScalar(w, scalar, item);
  }
}

function writeMap(w: BinaryWriter, field: DescField & { fieldKind: "map" }, record: Record<string, unknown>): void {
  for (const key of sortMapKeys(field.mapKey, Object.keys(record))) {
    const value = record[key];
    w.tag(field.number, WireType.LengthDelimited).fork();
    w.tag(1, wireTypeOf(field.mapKey));
    writeScalar(w, field.mapKey, mapKeyValue(field.mapKey, key));
    if (field.mapKind === "message") {
      writeNested(w, 2, field.message, value);
    } else if (field.mapKind === "enum") {
      w.tag(2, WireType.Varint).int32(value as number);
    } else {
      w.tag(2, wireTypeOf(field.scalar));
      writeScalar(w, field.scalar, value);
    }
    w.join();
  }
}

/** Go sorts string keys by their UTF-8 bytes, numbers numerically and false before true. */
function sortMapKeys(type: ScalarType, keys: string[]): string[] {
  if (type === ScalarType.STRING) {
    return keys.sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
  }
  if (type === ScalarType.BOOL) return keys.sort();
  return keys.sort((a, b) => {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function mapKeyValue(type: ScalarType, key: string): unknown {
  if (type === ScalarType.STRING) return key;
  if (type === ScalarType.BOOL) return key === "true";
  return key;
}

function isZeroScalar(type: ScalarType, value: unknown): boolean {
  switch (type) {
    case ScalarType.STRING:
      return value === "";
    case ScalarType.BOOL:
      return value === false;
    case ScalarType.BYTES:
      return value instanceof Uint8Array && value.byteLength === 0;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return Object.is(value, 0);
    default:
      // Matches 0, 0n and "0" (64-bit values may be strings with jstype=JS_STRING).
      return value == 0;
  }
}

function wireTypeOf(type: ScalarType): WireType {
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

type Int64 = string | number | bigint;

function writeScalar(w: BinaryWriter, type: ScalarType, value: unknown): void {
  switch (type) {
    case ScalarType.STRING: w.string(value as string); return;
    case ScalarType.BYTES: w.bytes(value as Uint8Array); return;
    case ScalarType.BOOL: w.bool(value as boolean); return;
    case ScalarType.INT32: w.int32(value as number); return;
    case ScalarType.UINT32: w.uint32(value as number); return;
    case ScalarType.SINT32: w.sint32(value as number); return;
    case ScalarType.FIXED32: w.fixed32(value as number); return;
    case ScalarType.SFIXED32: w.sfixed32(value as number); return;
    case ScalarType.FLOAT: w.float(value as number); return;
    case ScalarType.DOUBLE: w.double(value as number); return;
    case ScalarType.INT64: w.int64(value as Int64); return;
    case ScalarType.UINT64: w.uint64(value as Int64); return;
    case ScalarType.SINT64: w.sint64(value as Int64); return;
    case ScalarType.FIXED64: w.fixed64(value as Int64); return;
    case ScalarType.SFIXED64: w.sfixed64(value as Int64); return;
  }
}
