import { test } from "node:test";
import assert from "node:assert/strict";
import { goQuote } from "./go-quote.js";

void test("quotes like Go's strconv.Quote", () => {
  assert.equal(goQuote(""), "\"\"");
  assert.equal(goQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  assert.equal(goQuote("\n\t\r\x07\b\f\v"), "\"\\n\\t\\r\\a\\b\\f\\v\"");
  assert.equal(goQuote("\x01\x7f"), "\"\\x01\\x7f\"");
  assert.equal(goQuote("é 한국어 😀"), "\"é 한국어 😀\"");
  assert.equal(goQuote("\u00a0\u00ad\u{e0001}"), "\"\\u00a0\\u00ad\\U000e0001\"");
});
