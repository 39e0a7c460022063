// The metadata every subrequest answers with: the result as indented JSON, as text for people, and the
// version of its format (plus any request-specific keys).
import { RESULT_JSON, RESULT_TXT, RESULT_VERSION } from "./keys.js";
import { marshalIndent } from "./marshal-indent.js";

/** `result.json`, `result.txt` and `version` (and `extra`), encoded as result metadata. */
export function resultMetadata(value: unknown, text: string, version: string, extra: Record<string, string> = {}): Record<string, Uint8Array> {
  const enc = new TextEncoder();
  const out: Record<string, Uint8Array> = {
    [RESULT_JSON]: enc.encode(marshalIndent(value)),
    [RESULT_TXT]: enc.encode(text),
  };
  for (const [k, v] of Object.entries(extra)) out[k] = enc.encode(v);
  out[RESULT_VERSION] = enc.encode(version);
  return out;
}
