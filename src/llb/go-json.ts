// Text output matching Go's encoding/json, so dumps compare byte for byte with buildctl's: struct
// fields in declaration order, map keys sorted, 64-bit integers exact, and <, >, & escaped.
import { Buffer } from "node:buffer";

/** A JSON value with Go's distinctions kept: bigint for int64, Map for Go maps (keys get sorted). */
export type GoJson = null | boolean | number | bigint | string | GoJson[] | GoJsonMap | GoJsonStruct;
/** A Go map: encoded with keys sorted. */
export type GoJsonMap = Map<string, GoJson>;
/** A Go struct: encoded with keys in insertion order. */
export interface GoJsonStruct { [key: string]: GoJson }

/** Encodes like Go's `json.Marshal` (no trailing newline). */
export function encodeGoJson(value: GoJson): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
    case "number":
      return String(value);
    case "bigint":
      return value.toString();
    case "string":
      return goString(value);
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map(encodeGoJson).join(",")}]`;
  if (value instanceof Map) {
    const keys = [...value.keys()].sort(compareUtf8);
    return `{${keys.map((k) => `${goString(k)}:${encodeGoJson(value.get(k) ?? null)}`).join(",")}}`;
  }
  return `{${Object.entries(value).map(([k, v]) => `${goString(k)}:${encodeGoJson(v)}`).join(",")}}`;
}

/** Converts to plain JSON data (what `JSON.parse` of the encoded text gives). */
export function toPlainJson(value: GoJson): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(toPlainJson);
  const out: Record<string, unknown> = {};
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  for (const [k, v] of entries) out[k] = toPlainJson(v);
  return out;
}

function goString(s: string): string {
  // Escape pairs are matched whole so an escaped backslash before "b" is left alone.
  return JSON.stringify(s).replace(/\\.|[<>&\u2028\u2029]/g, (m) => {
    if (m === "\\b") return "\\u0008";
    if (m === "\\f") return "\\u000c";
    if (m.startsWith("\\")) return m;
    return `\\u${m.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
