import { test } from "node:test";
import assert from "node:assert/strict";
import { createFakeResolver } from "../convert/testing/cf-images.js";
import { lintDockerfile } from "./lint-request.js";
import { lintResultMetadata, printLintError, printLintViolations } from "./lint-results.js";
import { formatSourceExcerpt } from "./source-excerpt.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

// Two violations: the stage name casing (line 2) and MAINTAINER (line 3); an unused stage with a third.
const TWO = "\nFROM scratch as base\nMAINTAINER me\n\nFROM scratch\nCOPY --from=base / /\n";

test("lint reports each violation with its rule, detail, URL and lines in upstream's JSON shape", async () => {
  const results = await lintDockerfile(enc(TWO), { resolveImageConfig: createFakeResolver() });
  assert.equal(results.buildError, undefined);
  assert.deepEqual(results.warnings?.map((w) => [w.ruleName, w.location]), [
    ["FromAsCasing", { ranges: [{ start: { line: 2 }, end: { line: 2 } }] }],
    ["MaintainerDeprecated", { ranges: [{ start: { line: 3 }, end: { line: 3 } }] }],
  ]);
  const md = lintResultMetadata(results);
  assert.equal(dec(md["result.statuscode"]), "1"); // upstream: any violation
  assert.equal(dec(md.version), "1.0.0");
  const json = JSON.parse(dec(md["result.json"])) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ["warnings", "sources"]);
  assert.deepEqual(json.sources, [{ filename: "Dockerfile", data: Buffer.from(TWO).toString("base64"), language: "Dockerfile" }]);
  assert.deepEqual((json.warnings as unknown[])[1], {
    ruleName: "MaintainerDeprecated",
    description: "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
    url: "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/",
    detail: "Maintainer instruction is deprecated in favor of using label",
    location: { ranges: [{ start: { line: 3 }, end: { line: 3 } }] },
  });
  assert.match(dec(md["result.json"]), /^{\n {2}"warnings": \[\n {4}{\n {6}"ruleName": "FromAsCasing",/);
});

test("lint's text prints each warning then the lines around it, like docker build --check", async () => {
  const results = await lintDockerfile(enc(TWO), { resolveImageConfig: createFakeResolver() });
  assert.equal(printLintViolations(results), [
    "",
    "WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/",
    "'as' and 'FROM' keywords' casing do not match",
    "Dockerfile:2",
    "--------------------",
    "   1 |     ",
    "   2 | >>> FROM scratch as base",
    "   3 |     MAINTAINER me",
    "   4 |     ",
    "--------------------",
    "",
    "WARNING: MaintainerDeprecated - https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/",
    "Maintainer instruction is deprecated in favor of using label",
    "Dockerfile:3",
    "--------------------",
    "   1 |     ",
    "   2 |     FROM scratch as base",
    "   3 | >>> MAINTAINER me",
    "   4 |     ",
    "   5 |     FROM scratch",
    "--------------------",
    "",
  ].join("\n"));
});

test("lint checks stages the target does not need, unless a target is given", async () => {
  // JSONArgsRecommended is checked while a stage is dispatched, so only dispatched stages report it.
  const df = "FROM scratch AS unused\nCMD run me\nFROM scratch\n";
  const all = await lintDockerfile(enc(df), { resolveImageConfig: createFakeResolver() });
  assert.deepEqual(all.warnings?.map((w) => w.ruleName), ["JSONArgsRecommended"]);
  const some = await lintDockerfile(enc("FROM scratch AS one\nCMD run me\nFROM scratch AS two\n"),
    { attrs: { target: "two" }, resolveImageConfig: createFakeResolver() });
  assert.equal(some.warnings, null);
  const md = lintResultMetadata(some);
  assert.equal(dec(md["result.statuscode"]), "0");
  assert.equal(dec(md["result.txt"]), "");
  assert.match(dec(md["result.json"]), /"warnings": null/);
});

test("with check=error=true the violation error is the answer's build error; conversion errors keep their lines", async () => {
  const strict = await lintDockerfile(enc(`# check=error=true${TWO}`), { resolveImageConfig: createFakeResolver() });
  assert.equal(strict.warnings?.length, 2);
  assert.deepEqual(strict.buildError, { message: "lint violation found for rules: FromAsCasing, MaintainerDeprecated", location: {} });
  assert.equal(dec(lintResultMetadata(strict)["result.statuscode"]), "1");
  const broken = await lintDockerfile(enc("FROM scratch\nCOPY --from=nope:bad@x / /\nBADCMD\n"), { resolveImageConfig: createFakeResolver() });
  assert.match(broken.buildError?.message ?? "", /unknown instruction: BADCMD/);
  assert.deepEqual(broken.buildError?.location, { ranges: [{ start: { line: 3 }, end: { line: 3 } }] });
  assert.match(printLintError(broken), /unknown instruction: BADCMD\nDockerfile:3\n-{20}\n/);
});

test("the source excerpt pads one line by two each side and longer ranges by one, as upstream", () => {
  const data = "a\nb\nc\nd\ne\nf\ng";
  const at = (s: number, e: number) => [{ start: { line: s, character: 0 }, end: { line: e, character: 0 } }];
  assert.equal(formatSourceExcerpt("F", data, at(4, 4)),
    "F:4\n--------------------\n   2 |     b\n   3 |     c\n   4 | >>> d\n   5 |     e\n   6 |     f\n--------------------\n");
  assert.equal(formatSourceExcerpt("F", data, at(3, 4)),
    "F:3\n--------------------\n   2 |     b\n   3 | >>> c\n   4 | >>> d\n   5 |     e\n--------------------\n");
  assert.equal(formatSourceExcerpt("F", data, at(1, 1)).split("\n").slice(2, 5).join("|"), "   1 | >>> a|   2 |     b|   3 |     c");
  assert.equal(formatSourceExcerpt("F", data, []), "");
  assert.equal(formatSourceExcerpt("F", data, at(9, 9)), "");
});
