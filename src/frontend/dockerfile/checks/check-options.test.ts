import { test } from "node:test";
import assert from "node:assert/strict";
import { checkOptionsFromComments, parseCheckOptions } from "./check-options.js";
import { FromAsCasing, InvalidDefinitionDescription } from "./check-rules.js";
import { formatCheckShort, Linter, toBridgeWarning, type CheckWarning } from "./linter.js";

test("parses skip lists, all, experimental and error with upstream's spacing rules", () => {
  const o = parseCheckOptions(" skip = StageNameCasing , FromAsCasing ; error = True ;experimental=all ");
  assert.deepEqual([...o.skip], ["StageNameCasing", "FromAsCasing"]);
  assert.equal(o.error, true);
  assert.equal(o.experimentalAll, true);
  assert.equal(o.skipAll, false);
  assert.equal(parseCheckOptions("skip=all").skipAll, true);
  assert.deepEqual([...parseCheckOptions("experimental=InvalidDefinitionDescription").experimental], ["InvalidDefinitionDescription"]);
  assert.equal(parseCheckOptions("error=0").error, false);
  assert.equal(parseCheckOptions("").error, false);
});

test("bad options fail with upstream's messages", () => {
  assert.throws(() => parseCheckOptions("bogus"), { code: "InvalidArgument", message: "invalid check option \"bogus\"" });
  assert.throws(() => parseCheckOptions("skip=all;"), { message: "invalid check option \"\"" });
  assert.throws(() => parseCheckOptions("foo=bar"), { message: "invalid check option \"foo\"" });
  assert.throws(() => parseCheckOptions("error=maybe"),
    { message: "failed to parse check option \"error=maybe\": strconv.ParseBool: parsing \"maybe\": invalid syntax" });
});

test("only three options are read; the third keeps later semicolons", () => {
  const o = parseCheckOptions("error=true;skip=A;experimental=B;C");
  assert.deepEqual([...o.experimental], ["B;C"]);
});

test("a check comment counts by its first word; other or broken comments are ignored", () => {
  assert.deepEqual([...(checkOptionsFromComments(["a note", "check=skip=SecretsUsedInArgOrEnv // allowed here"])?.skip ?? [])],
    ["SecretsUsedInArgOrEnv"]);
  assert.equal(checkOptionsFromComments(["just a comment"]), undefined);
  assert.equal(checkOptionsFromComments(["check=nonsense"]), undefined);
});

test("the linter skips, opts in experimental rules, and summarises fired rules once each", () => {
  const got: CheckWarning[] = [];
  const lint = new Linter(parseCheckOptions("skip=all;error=true"), (w) => got.push(w));
  lint.run(FromAsCasing, [], "x");
  assert.equal(got.length, 0);
  assert.equal(lint.violationError(), undefined);
  // skip=all does not cover experimental rules; opting in does.
  const exp = lint.withComments(["check=experimental=InvalidDefinitionDescription"]);
  exp.run(InvalidDefinitionDescription, [], "a");
  exp.run(InvalidDefinitionDescription, [], "b");
  assert.equal(got.length, 2);
  // Derived linters share the fired list with their parent.
  assert.equal(lint.violationError()?.message, "lint violation found for rules: InvalidDefinitionDescription");
  assert.equal(new Linter(parseCheckOptions(""), () => {}).violationError(), undefined);
});

test("bridge warnings carry the short form, the description as detail, the URL and level 1", () => {
  const w: CheckWarning = {
    rule: "FromAsCasing", description: FromAsCasing.description, url: FromAsCasing.url,
    message: FromAsCasing.format("FROM", "as"), location: [{ start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }],
  };
  assert.deepEqual(toBridgeWarning(w, "Dockerfile"), {
    short: "FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 2)",
    detail: ["The 'as' keyword should match the case of the 'from' keyword"],
    url: "https://docs.docker.com/go/dockerfile/rule/from-as-casing/",
    level: 1,
    location: { filename: "Dockerfile", line: 2 },
    ranges: [{ start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }],
  });
  assert.equal(formatCheckShort("X", "msg", 0), "X: msg");
});
