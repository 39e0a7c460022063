// Parsers for exporter attr values, with upstream's accepted spellings and errors that name the attr.
import { GantryError } from "../util/errors.js";

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's strconv.ParseBool; `emptyMeans` is the value of a bare `key=` (upstream treats it as true). */
export function parseBoolAttr(key: string, value: string, emptyMeans = true): boolean {
  if (value === "") return emptyMeans;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new GantryError("InvalidArgument", `Invalid value "${value}" for exporter attr ${key}: expected true or false.`);
}

/** An integer attr value. */
export function parseIntAttr(key: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) {
    throw new GantryError("InvalidArgument", `Invalid value "${value}" for exporter attr ${key}: expected an integer.`);
  }
  return Number(value);
}

/** `source-date-epoch`: seconds since the Unix epoch; "" means unset. */
export function parseEpochAttr(key: string, value: string): Date | undefined {
  if (value === "") return undefined;
  return new Date(parseIntAttr(key, value) * 1000);
}

/** InvalidArgument for an attr the exporter does not know. */
export function unknownAttr(exporter: string, key: string): GantryError {
  return new GantryError("InvalidArgument", `Unknown attr "${key}" for the ${exporter} exporter.`);
}
