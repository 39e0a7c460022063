import { test } from "node:test";
import assert from "node:assert/strict";
import { parseJSONArray } from "./line-parsers.js";
import { parseWords } from "./parse-words.js";
import { splitCommand } from "./split-command.js";

void test("words keep quotes and escapes", () => {
  const cases: Array<[string, string[]]> = [
    ["foo", ["foo"]], ["foo bar", ["foo", "bar"]], ["foo\\ bar", ["foo\\ bar"]], ["foo=bar", ["foo=bar"]],
    ["foo bar 'abc xyz'", ["foo", "bar", "'abc xyz'"]], ["foo bar \"abc xyz\"", ["foo", "bar", "\"abc xyz\""]],
    ["àöû", ["àöû"]], ["föo bàr \"âbc xÿz\"", ["föo", "bàr", "\"âbc xÿz\""]], ["a=\"\"", ["a=\"\""]],
  ];
  for (const [input, expected] of cases) assert.deepEqual(parseWords(input, "\\"), expected, input);
});

void test("flags are taken off the front, quotes removed, `--` ends them", () => {
  assert.deepEqual(splitCommand("  COPY --from=a --chown=\"1 2\" src dst ", "\\"), { keyword: "COPY", flags: ["--from=a", "--chown=1 2"], args: "src dst" });
  assert.deepEqual(splitCommand("COPY --x -- --y dst", "\\"), { keyword: "COPY", flags: ["--x"], args: "--y dst" });
  assert.deepEqual(splitCommand("CMD --doit -- [ ]", "\\"), { keyword: "CMD", flags: ["--doit"], args: "[ ]" });
  assert.deepEqual(splitCommand("RUN", "\\"), { keyword: "RUN", flags: [], args: "" });
});

void test("JSON arrays of strings", () => {
  assert.deepEqual(parseJSONArray("[]"), []);
  assert.deepEqual(parseJSONArray("\t[\t\"a\",\t\"b\"\t]\t"), ["a", "b"]);
  assert.deepEqual(parseJSONArray("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000\"]"), ["\" \\ / \b \f \n \r \t \u0000"]);
  assert.equal(parseJSONArray("[\"a\""), undefined);
  assert.equal(parseJSONArray("'a'"), undefined);
  for (const bad of ["[\"a\",42,\"b\"]", "[\"a\",{},\"b\"]", "[\"a\",[\"c\"],\"b\"]", "[\"a\",true,\"b\"]", "[\"a\",null,\"b\"]"]) {
    assert.throws(() => parseJSONArray(bad), /arrays must be comprised of strings only/, bad);
  }
});
