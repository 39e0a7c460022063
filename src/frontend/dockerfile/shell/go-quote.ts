// Go's strconv.Quote, needed wherever upstream prints a value with %q: the parser's AST dump and the
// lexer's "failed to process %q" errors. Byte-for-byte equality with upstream depends on it.

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
  "\\": "\\\\", "\"": "\\\"",
};

/** Quotes `s` exactly as Go's `strconv.Quote` does (double quotes, Go escapes, printable Unicode kept). */
export function goQuote(s: string): string {
  let out = "\"";
  for (const ch of s) out += quoteChar(ch);
  return out + "\"";
}

function quoteChar(ch: string): string {
  const simple = SIMPLE_ESCAPES[ch];
  if (simple !== undefined) return simple;
  if (ch === " " || PRINTABLE.test(ch)) return ch;
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x80) return "\\x" + hex(cp, 2);
  // A lone surrogate stands for bytes Go could not decode; Go prints the replacement character then.
  if (cp >= 0xd800 && cp <= 0xdfff) return "\uFFFD";
  return cp < 0x10000 ? "\\u" + hex(cp, 4) : "\\U" + hex(cp, 8);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}
