import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectiveParser, detectSyntax, parseDirective } from "./directives.js";

void test("directive lines: case-insensitive keys, unknown keys end the scan", () => {
  const found = new DirectiveParser().parseAll("#escape=\\\n# key = FOO bar\n\n# smth\n");
  assert.deepEqual(found, [{ name: "escape", value: "\\", line: 1 }]);
  assert.deepEqual(new DirectiveParser().parseAll("# EScape=\\\n# KEY = FOO bar\n").map((d) => d.name), ["escape"]);
  assert.throws(() => new DirectiveParser().parseAll("# check=a\n# CHECK=b\n"), /only one check parser directive can be used/);
});

void test("syntax detection: #, //, JSON, shebang and BOM", () => {
  assert.deepEqual(detectSyntax("# syntax = dockerfile:experimental // opts\nFROM busybox\n"),
    { value: "dockerfile:experimental", cmdline: "dockerfile:experimental // opts", line: 1 });
  assert.equal(detectSyntax("#!/bin/sh\n# syntax = dockerfile:experimental\nFROM busybox\n")?.line, 2);
  assert.equal(detectSyntax("#!/bin/sh\n\n# syntax = dockerfile:experimental\n"), undefined);
  assert.equal(detectSyntax("FROM busybox\nRUN ls\n"), undefined);
  assert.equal(detectSyntax("//syntax=foo\n//key=value")?.value, "foo");
  assert.equal(detectSyntax("#!/bin/sh\n//syntax=x")?.value, "x");
  assert.equal(detectSyntax("{\"syntax\": \"foo\", \"bar\": [\"abc\"]}")?.value, "foo");
  assert.equal(detectSyntax("{\"syntax\": \"foo\""), undefined);
  assert.equal(detectSyntax("{\"syntax\": \"foo\"}\n# syntax=bar"), undefined);
  assert.deepEqual(detectSyntax("\uFEFF# syntax = myfrontend\nFROM busybox\n"), { value: "myfrontend", cmdline: "myfrontend", line: 1 });
});

void test("check directive in # form only", () => {
  assert.deepEqual(parseDirective("check", "#check = skip=all // opts\nFROM busybox\n"),
    { value: "skip=all", cmdline: "skip=all // opts", line: 1 });
  assert.equal(parseDirective("check", "#!/bin/sh\n# check = skip=all\nFROM busybox\n")?.line, 2);
  assert.equal(parseDirective("check", "//check=skip=all\n//key=value"), undefined);
});
