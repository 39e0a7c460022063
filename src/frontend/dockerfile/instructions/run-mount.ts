// `RUN --mount=…` values: comma-separated CSV fields (upstream commands_runmount.go). Parsed once without
// expansion (only `from` is read then, to find the stages a RUN needs) and again at dispatch, expanded.

import { GantryError } from "../../../util/errors.js";
import { withSuggestion } from "./suggest.js";

export type MountType = "bind" | "cache" | "tmpfs" | "secret" | "ssh";
export type CacheSharing = "shared" | "private" | "locked";

/** One `--mount`. `id` is the cache/secret/ssh id (upstream's CacheID). */
export interface RunMount {
  type: MountType;
  from: string;
  source: string;
  target: string;
  readonly: boolean;
  sizeLimit: number;
  id: string;
  sharing?: CacheSharing;
  required: boolean;
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

const MOUNT_TYPES: readonly MountType[] = ["bind", "cache", "tmpfs", "secret", "ssh"];
const SHARING: readonly CacheSharing[] = ["shared", "private", "locked"];
const ALL_KEYS = ["type", "from", "source", "target", "readonly", "id", "sharing", "required", "size", "mode", "uid",
  "gid", "src", "dst", "destination", "ro", "rw", "readwrite", "env"];

/** Expands one field value; absent at parse time, when only `from` is checked. */
export type WordExpander = (word: string) => string;

/** Parses one `--mount` value. Throws InvalidArgument with upstream's messages. */
export function parseRunMount(value: string, expand?: WordExpander): RunMount {
  const m: RunMount = { type: "bind", from: "", source: "", target: "", readonly: false, sizeLimit: 0, id: "", required: false };
  let roAuto = true;
  for (const field of splitCsv(value)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (expand === undefined) continue;
      roAuto = applyBareKey(m, key, field) ?? roAuto;
      continue;
    }
    let val = field.slice(eq + 1);
    if (expand !== undefined) {
      val = expand(val);
    } else if (key === "from") {
      const idx = val.indexOf("$");
      if (idx !== -1 && idx !== val.length - 1) {
        throw invalid(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else {
      continue;
    }
    if (applyField(m, key, val, field)) roAuto = false;
  }
  validate(m);
  if (roAuto) m.readonly = m.type !== "cache" && m.type !== "tmpfs";
  return m;
}

/** Handles `ro`, `rw`, `required` without a value; returns false when it fixes read-only-ness. */
function applyBareKey(m: RunMount, key: string, field: string): boolean | undefined {
  switch (key) {
    case "readonly":
    case "ro":
      m.readonly = true;
      return false;
    case "readwrite":
    case "rw":
      m.readonly = false;
      return false;
    case "required":
      if (m.type !== "secret" && m.type !== "ssh") throw invalid(`unexpected key '${key}' for mount type '${m.type}'`);
      m.required = true;
      return undefined;
    default:
      throw invalid(`invalid field '${field}' must be a key=value pair`);
  }
}

/** Sets one `key=value`; returns true when it fixes read-only-ness. */
function applyField(m: RunMount, key: string, value: string, field: string): boolean {
  switch (key) {
    case "type": {
      const t = value.toLowerCase() as MountType;
      if (!MOUNT_TYPES.includes(t)) throw invalid(withSuggestion(`unsupported mount type "${value}"`, value, MOUNT_TYPES, true));
      m.type = t;
      return false;
    }
    case "from": m.from = value; return false;
    case "source": case "src": m.source = value; return false;
    case "target": case "dst": case "destination": m.target = value; return false;
    case "readonly": case "ro": m.readonly = parseBool(key, value); return true;
    case "readwrite": case "rw": m.readonly = !parseBool(key, value); return true;
    case "required":
      if (m.type !== "secret" && m.type !== "ssh") throw invalid(`unexpected key '${key}' for mount type '${m.type}'`);
      m.required = parseBool(key, value);
      return false;
    case "size":
      if (m.type !== "tmpfs") throw invalid(`unexpected key '${key}' for mount type '${m.type}'`);
      m.sizeLimit = parseRamBytes(key, value);
      return false;
    case "id": m.id = value; return false;
    case "sharing": {
      const s = value.toLowerCase() as CacheSharing;
      if (!SHARING.includes(s)) throw invalid(withSuggestion(`unsupported sharing value "${value}"`, value, SHARING, true));
      m.sharing = s;
      return false;
    }
    case "mode": m.mode = parseUint(value, 8, "mode"); return false;
    case "uid": m.uid = parseUint(value, 10, "uid"); return false;
    case "gid": m.gid = parseUint(value, 10, "gid"); return false;
    case "env": m.env = value; return false;
    default:
      throw invalid(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS, true));
  }
}

function validate(m: RunMount): void {
  const fileInfoAllowed = m.type === "secret" || m.type === "ssh" || m.type === "cache";
  if (!fileInfoAllowed) {
    for (const k of ["mode", "uid", "gid"] as const) {
      if (m[k] !== undefined) throw invalid(`${k} not allowed for "${m.type}" type mounts`);
    }
  }
  if (m.type === "secret") {
    if (m.from !== "") throw invalid("secret mount should not have a from");
    if (m.sharing !== undefined) throw invalid("secret mount should not define sharing");
    if (m.source === "" && m.target === "" && m.id === "" && m.env === undefined) {
      throw invalid("invalid secret mount. one of source, target required");
    }
    if (m.source !== "" && m.id !== "") throw invalid("both source and id can't be set");
  }
  if (m.sharing !== undefined && m.type !== "cache") throw invalid(`invalid cache sharing set for ${m.type} mount`);
}

function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (["1", "t", "true"].includes(v)) return true;
  if (["0", "f", "false"].includes(v)) return false;
  throw invalid(`invalid value for ${key}: ${value}`);
}

function parseUint(value: string, radix: 8 | 10, name: string): number {
  const ok = radix === 8 ? /^[0-7]+$/.test(value) : /^\d+$/.test(value);
  const n = ok ? parseInt(value, radix) : NaN;
  if (!ok || n > 0xffffffff) throw invalid(`invalid value ${value} for ${name}`);
  return n;
}

// docker/go-units RAMInBytes: a number with an optional binary unit (k, m, g, t, p; b/ib suffix).
function parseRamBytes(key: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (m === null) throw invalid(`invalid value for ${key}: ${value}`);
  const mult: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.trunc(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()] : 1));
}

// Go's encoding/csv for one record: fields split at commas, double quotes group and `""` escapes a quote.
function splitCsv(value: string): string[] {
  const fields: string[] = [];
  let cur = "";
  let quoted = false;
  let i = 0;
  while (i < value.length) {
    const ch = value[i];
    if (quoted) {
      if (ch === "\"" && value[i + 1] === "\"") {
        cur += "\"";
        i += 2;
        continue;
      }
      if (ch === "\"") quoted = false;
      else cur += ch;
    } else if (ch === "\"" && cur === "") {
      quoted = true;
    } else if (ch === ",") {
      fields.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
    i++;
  }
  if (quoted) throw invalid(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
  fields.push(cur);
  return fields;
}

function invalid(message: string): GantryError {
  return new GantryError("InvalidArgument", message);
}
