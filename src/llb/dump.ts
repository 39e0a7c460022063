// `debug dump-llb`: each vertex as the JSON buildctl prints (upstream v0.11 Go structs through
// encoding/json), and the `--dot` graphviz form.
import { create, ScalarType, type DescField, type DescMessage, type DescOneof } from "@bufbuild/protobuf";
import { Buffer } from "node:buffer";
import { OpMetadataSchema, OpSchema, type FileAction, type Op } from "../gen/pb/ops_pb.js";
import type { LoadedDefinition } from "./definition.js";
import { encodeGoJson, toPlainJson, type GoJson, type GoJsonStruct } from "./go-json.js";

// Go fields without `omitempty` in upstream's generated structs: they print even when zero.
const ALWAYS_PRINTED = new Set([
  "pb.Input.digest", "pb.Input.index", "pb.Mount.input", "pb.Mount.output", "pb.BuildOp.builder",
  "pb.BuildInput.input", "pb.OpMetadata.caps", "pb.FileAction.input", "pb.FileAction.secondaryInput",
  "pb.FileAction.output", "pb.NamedUserOpt.input", "pb.MergeInput.input", "pb.LowerDiffInput.input",
  "pb.UpperDiffInput.input", "pb.Definition.metadata", "pb.Range.start", "pb.Range.end",
]);

type Fields = Record<string, unknown>;

/** One dumped vertex, shaped like buildctl's `llbOp{Op, Digest, OpMetadata}`. */
export function dumpEntries(def: LoadedDefinition): GoJsonStruct[] {
  return def.entries.map((entry) => {
    const md = def.metadata.get(entry.digest) ?? create(OpMetadataSchema);
    return {
      Op: messageToGo(OpSchema, entry.op as unknown as Fields),
      Digest: entry.digest,
      OpMetadata: messageToGo(OpMetadataSchema, md as unknown as Fields),
    };
  });
}

/** The dump as plain JSON objects (equal to `JSON.parse` of each line buildctl prints). */
export function dumpDefinition(def: LoadedDefinition): unknown[] {
  return dumpEntries(def).map(toPlainJson);
}

/** The dump as text: one JSON document per line, byte-compatible with buildctl's output. */
export function formatDump(def: LoadedDefinition): string {
  return dumpEntries(def).map((e) => `${encodeGoJson(e)}\n`).join("");
}

/** Converts a message to Go's JSON shape: proto field names, oneofs under their Go interface name. */
export function messageToGo(desc: DescMessage, msg: Fields): GoJsonStruct {
  const out: GoJsonStruct = {};
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      out[goOneofName(member)] = oneofToGo(member, msg);
      continue;
    }
    const value = msg[member.localName];
    const always = ALWAYS_PRINTED.has(`${desc.typeName}.${member.name}`);
    if (!always && isEmpty(member, value)) continue;
    out[member.name] = fieldToGo(member, value);
  }
  return out;
}

// Go names a oneof's interface field after the oneof in CamelCase ("op" → "Op").
function goOneofName(oneof: DescOneof): string {
  return oneof.name.charAt(0).toUpperCase() + oneof.name.slice(1);
}

function oneofToGo(oneof: DescOneof, msg: Fields): GoJson {
  const selected = msg[oneof.localName] as { case?: string; value?: unknown };
  const field = oneof.fields.find((f) => f.localName === selected.case);
  if (field === undefined) return null;
  // The wrapper struct's single field is itself omitempty.
  return isEmpty(field, selected.value) && field.fieldKind !== "message"
    ? {}
    : { [field.name]: singularToGo(field, selected.value) };
}

function isEmpty(field: DescField, value: unknown): boolean {
  switch (field.fieldKind) {
    case "message": return value === undefined;
    case "list": return (value as unknown[]).length === 0;
    case "map": return Object.keys(value as object).length === 0;
    case "enum": return value === 0;
    case "scalar":
      if (field.scalar === ScalarType.BYTES) return (value as Uint8Array).length === 0;
      return value === "" || value === false || value == 0;
  }
}

function fieldToGo(field: DescField, value: unknown): GoJson {
  switch (field.fieldKind) {
    case "list": {
      const items = value as unknown[];
      // An empty Go slice or map in a field without omitempty is nil: printed as null.
      if (items.length === 0) return null;
      return field.listKind === "message"
        ? items.map((v) => messageToGo(field.message, v as Fields))
        : items.map((v) => scalarToGo(field.listKind === "enum" ? ScalarType.INT32 : field.scalar, v));
    }
    case "map": {
      const record = value as Record<string, unknown>;
      if (Object.keys(record).length === 0) return null;
      const map = new Map<string, GoJson>();
      for (const [k, v] of Object.entries(record)) {
        map.set(k, field.mapKind === "message" ? messageToGo(field.message, v as Fields)
          : scalarToGo(field.mapKind === "enum" ? ScalarType.INT32 : field.scalar, v));
      }
      return map;
    }
    default:
      return singularToGo(field, value);
  }
}

function singularToGo(field: DescField, value: unknown): GoJson {
  if (field.fieldKind === "message") {
    return messageToGo(field.message, (value ?? create(field.message)) as Fields);
  }
  if (field.fieldKind === "enum") return value as number;
  if (field.fieldKind === "scalar") return scalarToGo(field.scalar, value);
  return null;
}

function scalarToGo(type: ScalarType, value: unknown): GoJson {
  if (type === ScalarType.BYTES) return Buffer.from(value as Uint8Array).toString("base64");
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
    return value;
  }
  return null;
}

/** The `--dot` graph: one node per vertex, edges labelled with the exec mount target. */
export function dumpDot(def: LoadedDefinition): string {
  const lines = ["digraph {"];
  for (const { digest, op } of def.entries) {
    const [label, shape] = dotAttr(digest, op);
    lines.push(`  ${goQuote(digest)} [label=${goQuote(label)} shape=${goQuote(shape)}];`);
  }
  for (const { digest, op } of def.entries) {
    op.inputs.forEach((input, i) => {
      let label = "";
      if (op.op.case === "exec") {
        for (const m of op.op.value.mounts) if (Number(m.input) === i && m.dest !== "/") label = m.dest;
      }
      lines.push(`  ${goQuote(input.digest)} -> ${goQuote(digest)} [label=${goQuote(label)}];`);
    });
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

function dotAttr(digest: string, op: Op): [string, string] {
  const kind = op.op;
  switch (kind.case) {
    case "source": return [kind.value.identifier, "ellipse"];
    case "exec": return [(kind.value.meta?.args ?? []).join(" "), "box"];
    case "build": return ["build", "box3d"];
    case "merge": return ["merge", "invtriangle"];
    case "diff": return ["diff", "doublecircle"];
    case "file": return [kind.value.actions.map(dotActionName).join(","), "note"];
    default: return [digest, "plaintext"];
  }
}

function dotActionName({ action }: FileAction): string {
  switch (action.case) {
    case "copy": return `copy{src=${action.value.src}, dest=${action.value.dest}}`;
    case "mkfile": return `mkfile{path=${action.value.path}}`;
    case "mkdir": return `mkdir{path=${action.value.path}}`;
    case "rm": return `rm{path=${action.value.path}}`;
    case "symlink": return `symlink{oldpath=${action.value.oldpath}, newpath=${action.value.newpath}}`;
    default: return "";
  }
}

// Go's %q: a double-quoted string with Go escapes for control characters.
function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, (_m, hex: string) => {
    const named: Record<string, string> = { "07": "\\a", "0b": "\\v" };
    return named[hex] ?? `\\x${hex}`;
  });
}
