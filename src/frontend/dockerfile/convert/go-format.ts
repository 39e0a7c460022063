// Go fmt verbs upstream uses in history lines (`%q` of slices, ints and the healthcheck struct, `%v` of
// maps and slices), reproduced so `created_by` strings are byte-identical.

import { goQuote } from "../shell/go-quote.js";
import { formatGoDuration } from "../instructions/go-duration.js";
import type { HealthcheckJson } from "./image-config.js";

/** `%q` of a []string: `["a" "b c"]`. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map(goQuote).join(" ")}]`;
}

/** `%v` of a []string: `[a b c]`. */
export function goList(items: readonly string[]): string {
  return `[${items.join(" ")}]`;
}

/** `%v` of a map[string]struct{}: `map[80/tcp:{} 90/udp:{}]`, keys sorted. */
export function goEmptyStructMap(keys: Iterable<string>): string {
  return `map[${[...keys].sort().map((k) => `${k}:{}`).join(" ")}]`;
}

/** `%q` of an int: Go quotes it as a rune (`'\x04'`, `'A'`). */
export function goQuoteRune(n: number): string {
  if (n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return "'\uFFFD'";
  const ch = String.fromCodePoint(n);
  if (ch === "'") return "'\\''";
  if (ch === "\"") return "'\"'";
  const quoted = goQuote(ch);
  return `'${quoted.slice(1, -1)}'`;
}

/**
 * `%q` of upstream v0.11.6's *HealthConfig: `&{["CMD" "/bin/true"] "5s" "3s" "1m30s" '\x04'}`. A start
 * interval (newer field) is printed after the start period only when set.
 */
export function goHealthcheck(h: HealthcheckJson): string {
  const d = (v: number | undefined): string => goQuote(formatGoDuration(v ?? 0));
  const parts = [goQuoteList(h.Test ?? []), d(h.Interval), d(h.Timeout), d(h.StartPeriod)];
  if (h.StartInterval) parts.push(d(h.StartInterval));
  parts.push(goQuoteRune(h.Retries ?? 0));
  return `&{${parts.join(" ")}}`;
}
