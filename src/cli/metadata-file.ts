// buildctl's --metadata-file: the exporter response as JSON, where values that are base64 of a JSON object
// are inlined as objects and everything else stays a string.

export function metadataFileContent(response: Record<string, string>): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(response)) out[k] = decodeValue(v);
  return JSON.stringify(out, null, 2);
}

function decodeValue(v: string): unknown {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v) || v.length % 4 !== 0) return v;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(v, "base64").toString("utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed) && Object.keys(parsed).length > 0) return parsed;
  } catch {
    // Not base64 of JSON: keep the string, as buildctl does.
  }
  return v;
}
