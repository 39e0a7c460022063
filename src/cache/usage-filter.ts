// containerd's filter syntax over cache records, as `buildctl du --filter` and `prune --filter` use it:
// `type==exec.cachemount`, `id!=abc`, `description~=^mount`, a bare `inuse`. Selectors joined by commas in
// one string must all match; a record matches a list of strings when any string matches.
import { GantryError } from "../util/errors.js";

/** The fields a filter can read, as upstream's adaptor exposes them. */
export interface FilterableRecord {
  id: string;
  parents: readonly string[];
  description: string;
  inUse: boolean;
  mutable: boolean;
  recordType: string;
  shared: boolean;
}

type Operator = "present" | "==" | "!=" | "~=";

interface Selector {
  field: string;
  op: Operator;
  value: string;
  re?: RegExp;
}

/** A parsed filter list; `matches` is true for every record when the list is empty. */
export interface UsageFilter {
  matches(r: FilterableRecord): boolean;
}

/** Parses filter strings; InvalidArgument names the one at fault. */
export function parseUsageFilters(filters: readonly string[]): UsageFilter {
  const parsed = filters.filter((f) => f.trim() !== "").map(parseOne);
  return {
    matches: (r) => parsed.length === 0 || parsed.some((all) => all.every((s) => matchOne(s, r))),
  };
}

function fieldOf(r: FilterableRecord, field: string): [string, boolean] {
  switch (field) {
    case "id": return [r.id, r.id !== ""];
    case "parents":
    case "parent": return [r.parents.join(";"), r.parents.length > 0];
    case "description": return [r.description, r.description !== ""];
    case "inuse": return ["", r.inUse];
    case "mutable": return ["", r.mutable];
    case "immutable": return ["", !r.mutable];
    case "type": return [r.recordType, r.recordType !== ""];
    case "shared": return ["", r.shared];
    case "private": return ["", !r.shared];
    default: return ["", false];
  }
}

function matchOne(s: Selector, r: FilterableRecord): boolean {
  const [value, present] = fieldOf(r, s.field);
  switch (s.op) {
    case "present": return present;
    case "==": return present && value === s.value;
    case "!=": return value !== s.value;
    case "~=": return s.re!.test(value);
  }
}

function parseOne(text: string): Selector[] {
  const out: Selector[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new GantryError("InvalidArgument", `Invalid filter "${text}": ${why}.`);
  };
  while (i < text.length) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*/.exec(text.slice(i));
    if (!m) fail(`expected a field name at offset ${i}`);
    const field = m![1];
    i += m![0].length;
    const op = /^(==|!=|~=)/.exec(text.slice(i))?.[1] as Operator | undefined;
    if (!op) {
      out.push({ field, op: "present", value: "" });
    } else {
      i += 2;
      const [value, next] = readValue(text, i, fail);
      i = next;
      const sel: Selector = { field, op, value };
      if (op === "~=") {
        try {
          sel.re = new RegExp(value);
        } catch {
          fail(`"${value}" is not a regular expression`);
        }
      }
      out.push(sel);
    }
    while (text[i] === " ") i++;
    if (i < text.length) {
      if (text[i] !== ",") fail(`expected "," at offset ${i}`);
      i++;
    }
  }
  return out;
}

// A value is quoted ("…" with backslash escapes, or /…/ for regexps) or runs to the next comma.
function readValue(text: string, start: number, fail: (why: string) => never): [string, number] {
  let i = start;
  while (text[i] === " ") i++;
  const q = text[i];
  if (q === '"' || q === "/") {
    let v = "";
    for (i++; i < text.length && text[i] !== q; i++) {
      if (text[i] === "\\" && i + 1 < text.length) i++;
      v += text[i];
    }
    if (i >= text.length) fail("unterminated quoted value");
    return [v, i + 1];
  }
  const end = text.indexOf(",", i);
  const stop = end < 0 ? text.length : end;
  return [text.slice(i, stop).trim(), stop];
}
