import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isInvalidArgument } from "../../../util/errors.js";
import { dumpNode } from "./dump.js";
import { DockerfileParseError } from "./parse-error.js";
import { parseDockerfile } from "./parser.js";
import { sharedPath } from "../../../util/testing/shared-path.js";

const CASES = sharedPath("conformance/upstream/parser") + "/";

// Upstream's testfiles-negative, which the shared data does not carry.
const NEGATIVE: Record<string, string> = {
  empty_dockerfile: "",
  env_no_value: "FROM busybox\n\nENV PATH\n",
  only_comments: "# Hello\n# These are just comments\n",
  "shykes-nested-json": "CMD [ \"echo\", [ \"nested json\" ] ]\n",
};

function caseDirs(): string[] {
  return readdirSync(CASES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

void test("golden cases: the dump equals upstream's result byte for byte", () => {
  const dirs = caseDirs().filter((d) => existsSync(CASES + d + "/result"));
  assert.equal(dirs.length, 33);
  for (const dir of dirs) {
    const result = parseDockerfile(readFileSync(CASES + dir + "/Dockerfile"));
    assert.equal(dumpNode(result.ast) + "\n", readFileSync(CASES + dir + "/result", "utf8"), dir);
  }
});

void test("negative cases fail with DockerfileParseError", () => {
  const inputs = new Map(Object.entries(NEGATIVE));
  for (const dir of caseDirs().filter((d) => !existsSync(CASES + d + "/result"))) {
    inputs.set(dir, readFileSync(CASES + dir + "/Dockerfile", "utf8"));
  }
  assert.ok(inputs.size >= 4);
  for (const [name, text] of inputs) {
    assert.throws(() => parseDockerfile(text), (e: unknown) => e instanceof DockerfileParseError && isInvalidArgument(e), name);
  }
});

void test("error messages and line numbers", () => {
  const check = (text: string, message: string | RegExp, line: number, endLine = line): void => {
    try {
      parseDockerfile(text);
      assert.fail(`expected ${JSON.stringify(text)} to fail`);
    } catch (err) {
      assert.ok(err instanceof DockerfileParseError);
      if (typeof message === "string") assert.equal(err.message, message);
      else assert.match(err.message, message);
      assert.equal(err.code, "InvalidArgument");
      assert.deepEqual([err.line, err.endLine], [line, endLine], err.message);
    }
  };
  check("FROM busybox\n\nENV PATH\n", "ENV must have two arguments", 3);
  check("FROM a\nLABEL a=b \\\n  c\n", "Syntax error - can't find = in \"c\". Must be of the form: name=value", 2, 3);
  check("FROM a\nCMD [\"a\", 1]\n", "when using JSON array syntax, arrays must be comprised of strings only", 2);
  check("# escape=x\nFROM a\n", /invalid escape token 'x'/, 1);
  check("# escape=`\n# escape=\\\nFROM a\n", "only one escape parser directive can be used", 2);
  check("FROM a\nRUN <<EOF\necho\n", "unterminated heredoc", 2, 3);
  check("\n# c\n\n", "file with no instructions", 3);
});

void test("line numbers of instructions", () => {
  const text = "# ESCAPE=\\\n\n\n\nFROM brimstone/ubuntu:14.04\n\n\n# TORUN -v /x:/x\n\n\nENV GOPATH \\\n/go\n\n\n\n" +
    "# Install\nRUN apt-get update \\\n\t&& a \\\n\n\n    && b \\\n    && c \\\n    && d \\\n\n\t&& e \\\n    && f \\\n\n" +
    "\t&& g \\\n\t&& h \\\n\t&& i \\\n\t&& rm -rf $GOPATH\n\n\n\n\n";
  const { ast, warnings } = parseDockerfile(text);
  assert.deepEqual([ast.startLine, ast.endLine], [5, 31]);
  assert.deepEqual(ast.children.map((c) => [c.startLine, c.endLine]), [[5, 5], [11, 12], [17, 31]]);
  assert.equal(warnings.length, 1);
  assert.deepEqual(ast.children[2].prevComment, ["Install"]);
});

void test("empty continuation lines warn; comment lines inside continuations do not", () => {
  const text = "\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\n" +
    "RUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\n" +
    "RUN indented \\\n    # this is an indented comment\n    comment\n\t";
  const { ast, warnings } = parseDockerfile(text);
  assert.equal(warnings.length, 2);
  assert.equal(warnings[0].short, "Empty continuation line found in: RUN something     following     more");
  assert.equal(warnings[1].short, "Empty continuation line found in: RUN another     thing");
  assert.match(warnings[0].detail[0], /will become errors in a future release/);
  assert.equal(warnings[0].url, "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/");
  assert.equal(warnings[0].location.start.line, 11);
  assert.deepEqual(ast.children.map((c) => c.next[0]), ["alpine:3.6", "valid     continuation",
    "something     following     more", "another     thing", "non-indented    after-comment", "indented     comment"]);
});

void test("directives: syntax, escape, check; position and case rules", () => {
  const r = parseDockerfile("# syntax = docker/dockerfile:1.7 // opts\n# Escape=`\n#CHECK=skip=all;error=true\nFROM a\nRUN a `\n  b\n");
  assert.deepEqual(r.directives, { syntax: "docker/dockerfile:1.7", escape: "`", check: "skip=all;error=true" });
  assert.equal(r.escapeToken, "`");
  assert.equal(dumpNode(r.ast), "(from \"a\")\n(run \"a   b\")");
  // After a plain comment, a directive-looking line is just a comment.
  const late = parseDockerfile("# hello\n# escape=`\nFROM a\nRUN a \\\n  b\n");
  assert.equal(late.escapeToken, "\\");
  assert.equal(late.ast.children[1].next[0], "a   b");
  // An unknown key ends the scan too.
  assert.equal(parseDockerfile("# foo=bar\n# escape=`\nFROM a\n").escapeToken, "\\");
  // Directive lines are not kept as comments of the first instruction.
  assert.deepEqual(parseDockerfile("# syntax=x\n# about a\nFROM a\n").ast.children[0].prevComment, ["about a"]);
});

void test("BOM, CRLF and keyword case", () => {
  const bytes = new TextEncoder().encode("\uFEFF# escape=`\r\nfrom a\r\nRuN echo `\r\n  hi\r\n");
  const r = parseDockerfile(bytes);
  assert.equal(r.escapeToken, "`");
  assert.equal(dumpNode(r.ast), "(from \"a\")\n(run \"echo   hi\")");
  assert.equal(r.ast.children[1].value, "run");
  assert.equal(r.ast.children[1].rawKeyword, "RuN");
  assert.equal(r.ast.children[1].original, "RuN echo   hi");
});

void test("instruction forms: JSON, shell, flags, ONBUILD, HEALTHCHECK", () => {
  const r = parseDockerfile([
    "FROM --platform=$BUILDPLATFORM img AS build",
    "RUN [\"echo\", \"a b\"]",
    "RUN echo [not json",
    "COPY --from=build --chown=1:1 [\"a b\", \"/dst/\"]",
    "CMD []",
    "ONBUILD RUN --mount=type=cache,target=/c make",
    "HEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"x\"]",
    "HEALTHCHECK NONE",
    "ENV A=1 B=\"two words\"",
    "FROOB x",
  ].join("\n"));
  const [from, runJson, runShell, copy, cmd, onbuild, health, none, env, unknown] = r.ast.children;
  assert.deepEqual([from.flags, from.next], [["--platform=$BUILDPLATFORM"], ["img", "AS", "build"]]);
  assert.deepEqual([runJson.next, runJson.attributes.json], [["echo", "a b"], true]);
  assert.deepEqual([runShell.next, runShell.attributes.json], [["echo [not json"], false]);
  assert.deepEqual([copy.flags, copy.next, copy.attributes.json], [["--from=build", "--chown=1:1"], ["a b", "/dst/"], true]);
  assert.deepEqual([cmd.next, cmd.attributes.json], [[], true]);
  assert.equal(onbuild.children[0].value, "run");
  assert.deepEqual(onbuild.children[0].flags, ["--mount=type=cache,target=/c"]);
  assert.equal(dumpNode(onbuild), "onbuild (run [\"--mount=type=cache,target=/c\"] \"make\")");
  assert.deepEqual([health.flags, health.next, health.attributes.json], [["--interval=5s"], ["CMD", "curl", "-f", "x"], true]);
  assert.deepEqual(none.next, ["NONE"]);
  assert.deepEqual(env.next, ["A", "1", "=", "B", "\"two words\"", "="]);
  assert.deepEqual([unknown.value, unknown.next], ["froob", [""]]);
});
