// buildctl's --metadata-file: the exporter response as JSON, where values that are base64 of a non-empty
// JSON object are inlined as objects and everything else stays a string. The output matches Go's
// json.MarshalIndent byte for byte: sorted keys, 2-space indent, `<>&` escaped, inlined JSON kept verbatim
// (its key order and number spelling), no trailing newline.
import { atomicWrite } from "../util/atomic-write.js";

/** The file's content for an exporter response (SolveResponse.ExporterResponse). */
export function metadataFileContent(response: Record<string, string>): string {
  const keys = Object.keys(response).sort();
  if (keys.length === 0) return "{}";
  const fields = keys.map((k) => {
    const raw = inlineJson(response[k]);
    return `  ${goString(k)}: ${raw === undefined ? goString(response[k]) : indentJson(raw, "  ")}`;
  });
  return `{\n${fields.join(",\n")}\n}`;
}

/** Writes the metadata file atomically, as buildctl does. */
export async function writeMetadataFile(path: string, response: Record<string, string>): Promise<void> {
  await atomicWrite(path, metadataFileContent(response));
}

/** The JSON text a value decodes to when it is strict base64 of a non-empty JSON object, else undefined. */
function inlineJson(v: string): string | undefined {
  const b64 = v.replace(/[\r\n]/g, "");
  if (b64 === "" || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  const text = Buffer.from(b64, "base64").toString("utf8");
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || Object.keys(parsed).length === 0) return undefined;
  } catch {
    return undefined; // Not JSON: buildctl keeps the string.
  }
  return text;
}

/** A JSON string literal as Go's encoder writes it (HTML-safe). */
function goString(s: string): string {
  return htmlEscape(JSON.stringify(s));
}

function htmlEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Re-indents valid JSON text like Go's json.Indent after Compact, keeping tokens verbatim. */
function indentJson(text: string, prefix: string): string {
  let out = "";
  let depth = 0;
  const nl = (): string => `\n${prefix}${"  ".repeat(depth)}`;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += htmlEscape(text.slice(i, j + 1));
      i = j;
    } else if (c === "{" || c === "[") {
      const next = text.slice(i + 1).search(/\S/) + i + 1;
      if (text[next] === (c === "{" ? "}" : "]")) {
        out += c === "{" ? "{}" : "[]";
        i = next;
      } else {
        depth++;
        out += c + nl();
      }
    } else if (c === "}" || c === "]") {
      depth--;
      out += nl() + c;
    } else if (c === ",") out += "," + nl();
    else if (c === ":") out += ": ";
    else if (!/\s/.test(c)) out += c;
  }
  return out;
}
