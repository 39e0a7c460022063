// Go's time.Duration text forms: HEALTHCHECK flags are parsed with time.ParseDuration and the history
// line prints durations with Duration.String, so both must match Go exactly. Values are nanoseconds.

import { GantryError } from "../../../util/errors.js";

const UNITS: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** Parses `1m30s`, `1.5h`, `300ms`, `-2s`, `0`. Throws InvalidArgument with Go's message otherwise. */
export function parseGoDuration(text: string): number {
  const bad = (): GantryError => new GantryError("InvalidArgument", `time: invalid duration "${text}"`);
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    sign = s[0] === "-" ? -1 : 1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw bad();
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (s !== "") {
    const m = re.exec(s);
    if (m === null || (m[1] === "" && (m[2] ?? "") === "")) throw bad();
    const unit = UNITS[m[3]];
    if (unit === undefined) throw new GantryError("InvalidArgument", `time: unknown unit "${m[3]}" in duration "${text}"`);
    const frac = m[2] ? Number(`0.${m[2]}`) : 0;
    total += Number(m[1] || "0") * unit + Math.floor(frac * unit);
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** Formats nanoseconds like Go's Duration.String (`1m30s`, `5s`, `1.5s`, `300ms`, `0s`). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(Math.trunc(ns));
  let out: string;
  if (u < 1e9) {
    // Sub-second values use the largest unit that keeps the integer part non-zero.
    const [unit, div] = u < 1e3 ? ["ns", 1] : u < 1e6 ? ["µs", 1e3] : ["ms", 1e6];
    out = fraction(u, div) + unit;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    out = `${fraction(u, 1e9)}s`;
    if (h > 0 || m > 0) out = `${m}m${out}`;
    if (h > 0) out = `${h}h${out}`;
  }
  return neg ? `-${out}` : out;
}

function fraction(value: number, div: number): string {
  const whole = Math.floor(value / div);
  const rest = value - whole * div;
  if (rest === 0) return String(whole);
  const digits = String(div).length - 1;
  return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}
