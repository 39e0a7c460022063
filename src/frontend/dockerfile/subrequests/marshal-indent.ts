// JSON the way Go's json.MarshalIndent(v, "", "  ") writes it, so clients that compare or parse the
// subrequest answers see upstream's bytes: two-space indent and HTML-sensitive characters escaped.

const GO_ESCAPES: Record<string, string> = {
  "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
};

/**
 * `value` as indented JSON. Callers build `value` with Go's field order and leave out what Go's
 * `omitempty` leaves out; these characters only occur inside strings, so escaping them is safe.
 */
export function marshalIndent(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c);
}

/** Bytes as Go's encoding/json writes a `[]byte`: standard base64. */
export function goBytes(data: Uint8Array | string): string {
  return Buffer.from(data).toString("base64");
}
