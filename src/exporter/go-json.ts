// JSON bytes as Go's encoding/json writes them, so configs and manifests built from the same inputs get
// the same digests as upstream's: HTML-sensitive characters escaped, maps with sorted keys, times in
// RFC 3339 with trailing fractional zeros dropped.

const GO_ESCAPES: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029" };

function escapeLikeGo(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]);
}

/** Compact JSON, like `json.Marshal`. Object keys keep their insertion order (Go structs' field order). */
export function goMarshal(value: unknown): string {
  return escapeLikeGo(JSON.stringify(value));
}

/** Two-space indented JSON, like `json.MarshalIndent(v, "", "  ")`. */
export function goMarshalIndent(value: unknown): string {
  return escapeLikeGo(JSON.stringify(value, null, 2));
}

/** Compact JSON of a map with keys sorted by bytes, as Go marshals `map[string]T`. */
export function goMarshalMap(map: Record<string, unknown>): string {
  const keys = Object.keys(map).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goMarshal(k)}:${goMarshal(map[k])}`).join(",")}}`;
}

/** A time as Go's `time.Time` marshals it in UTC: `2006-01-02T15:04:05.999999999Z`. */
export function goTime(d: Date): string {
  return d.toISOString().replace(/\.?0+Z$/, "Z").replace(/\.Z$/, "Z");
}
