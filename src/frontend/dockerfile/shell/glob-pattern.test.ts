import { test } from "node:test";
import assert from "node:assert/strict";
import { reversePattern, reverseString, shellPatternToRegExp, trimPatternPrefix, trimPatternSuffix } from "./glob-pattern.js";

void test("patterns compile with regex characters quoted", () => {
  assert.equal(shellPatternToRegExp("*", { greedy: true, anchored: true }).source, "^[^\\n]*");
  assert.equal(shellPatternToRegExp("?", { greedy: true, anchored: true }).source, "^[^\\n]");
  assert.equal(shellPatternToRegExp("\\*", { greedy: true, anchored: true }).source, "^\\*");
  assert.equal(shellPatternToRegExp("(()[]{\\}^$.\\*\\?|\\\\", { greedy: true, anchored: true }).source,
    "^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\");
  for (const bad of ["\\", "\\x", "\\\\\\"]) {
    assert.throws(() => shellPatternToRegExp(bad, { greedy: true, anchored: true }), /invalid escape/);
  }
});

void test("reversal keeps escapes and code points", () => {
  assert.equal(reverseString("🖖🚀👽"), "👽🚀🖖");
  const cases: Array<[string, string]> = [["a\\*c", "c\\*a"], ["\\\\\\ab", "b\\a\\\\"], ["ab\\", "\\ba"], ["👽\\🚀🖖", "🖖\\🚀👽"], ["\\\\b", "b\\\\"]];
  for (const [input, expected] of cases) assert.equal(reversePattern(input), expected);
});

void test("prefix and suffix trimming, shortest and longest", () => {
  assert.equal(trimPatternPrefix("a/b/c", "*/", false), "b/c");
  assert.equal(trimPatternPrefix("a/b/c", "*/", true), "c");
  assert.equal(trimPatternSuffix("a/b/c", "/*", false), "a/b");
  assert.equal(trimPatternSuffix("a/b/c", "/*", true), "a");
  assert.equal(trimPatternSuffix("file.tar.gz", ".*", false), "file.tar");
  assert.equal(trimPatternPrefix("xyz", "q", false), "xyz");
});
