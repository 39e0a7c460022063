import { GantryError } from "../util/errors.js";

/**
 * Parses buildctl's CSV attribute syntax (`type=image,"name=a,b",push=true`): fields split on commas
 * outside double quotes, each `key=value`. `flag` names the flag in error messages.
 */
export function parseCsvAttrs(value: string, flag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const field of splitCsv(value, flag)) {
    const eq = field.indexOf("=");
    if (eq <= 0) throw new GantryError("InvalidArgument", `Invalid ${flag} value "${value}": "${field}" is not key=value.`);
    attrs[field.slice(0, eq).trim().toLowerCase()] = field.slice(eq + 1);
  }
  return attrs;
}

function splitCsv(value: string, flag: string): string[] {
  const fields: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') {
      if (quoted && value[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (c === "," && !quoted) {
      fields.push(cur);
      cur = "";
    } else cur += c;
  }
  if (quoted) throw new GantryError("InvalidArgument", `Invalid ${flag} value "${value}": unterminated quote.`);
  fields.push(cur);
  return fields.filter((f) => f !== "");
}
