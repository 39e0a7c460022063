// The check options end to end through the converter: the `# check=` directive, per-instruction
// comments, BUILDKIT_DOCKERFILE_CHECK, error=true, and warnings reaching the frontend bridge.

import { test } from "node:test";
import assert from "node:assert/strict";
import { dockerfileToLLB } from "../convert/dockerfile-to-llb.js";
import { createFakeResolver } from "../convert/testing/cf-images.js";
import type { FrontendBridge } from "../../frontend.js";
import { createDockerfileFrontend } from "../dockerfile-frontend.js";
import { GantryError } from "../../../util/errors.js";
import { runChecks } from "./testing/run-checks.js";

const CASING = "FROM scratch as base\ncopy Dockerfile .\n";
const AS_CASING = "FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 2)";
const COPY_CASING = "ConsistentInstructionCasing: Command 'copy' should match the case of the command majority (uppercase) (line 3)";

test("without options every default rule runs and the build succeeds", async () => {
  const run = await runChecks(`# a comment\n${CASING}`);
  assert.equal(run.error, undefined);
  assert.deepEqual(run.shorts, [AS_CASING, COPY_CASING]);
});

test("# check=skip= turns rules off, for one rule, a list or all", async () => {
  const cases: [string, string[]][] = [
    ["#check=skip=all", []],
    ["#check=skip=ConsistentInstructionCasing,FromAsCasing", []],
    ["#check=skip=ConsistentInstructionCasing", [AS_CASING]],
    ["# CHECK = skip=FromAsCasing", [COPY_CASING]],
  ];
  for (const [directive, expected] of cases) {
    const run = await runChecks(`${directive}\n${CASING}`);
    assert.equal(run.error, undefined, directive);
    assert.deepEqual(run.shorts, expected, directive);
  }
});

test("error=true fails after the checks with upstream's summary, warnings reported first", async () => {
  const run = await runChecks(`#check=skip=ConsistentInstructionCasing;error=true\n${CASING}`);
  assert.deepEqual(run.shorts, [AS_CASING]);
  assert.ok(run.error instanceof GantryError);
  assert.equal(run.error.code, "InvalidArgument");
  assert.equal(run.error.message, "lint violation found for rules: FromAsCasing");
  const both = await runChecks(`#check=error=true\n${CASING}`);
  assert.equal(both.error?.message, "lint violation found for rules: FromAsCasing, ConsistentInstructionCasing");
  // Nothing fired: no error.
  for (const df of [`#check=skip=all;error=true\n${CASING}`, "#check=error=true\nFROM scratch\nCOPY a /\n"]) {
    assert.equal((await runChecks(df)).error, undefined, df);
  }
});

test("BUILDKIT_DOCKERFILE_CHECK replaces the directive", async () => {
  const strict = await runChecks(`#check=skip=all\n${CASING}`,
    { attrs: { "build-arg:BUILDKIT_DOCKERFILE_CHECK": "skip=ConsistentInstructionCasing;error=true" } });
  assert.deepEqual(strict.shorts, [AS_CASING]);
  assert.equal(strict.error?.message, "lint violation found for rules: FromAsCasing");
  const lax = await runChecks(`#check=error=true\n${CASING}`, { attrs: { "build-arg:BUILDKIT_DOCKERFILE_CHECK": "skip=all" } });
  assert.equal(lax.error, undefined);
  assert.deepEqual(lax.shorts, []);
  const exp = await runChecks("# wrong description\nARG foo\nFROM scratch\n",
    { attrs: { "build-arg:BUILDKIT_DOCKERFILE_CHECK": "experimental=InvalidDefinitionDescription" } });
  assert.deepEqual(exp.shorts, ["InvalidDefinitionDescription: Comment for ARG should follow the format: `# foo <description>` (line 2)"]);
});

test("bad check options fail the build naming where they came from", async () => {
  const directive = await runChecks("# check=skip\nFROM scratch\n");
  assert.equal(directive.error?.message, "failed to parse check options: invalid check option \"skip\"");
  const arg = await runChecks("FROM scratch\n", { attrs: { "build-arg:BUILDKIT_DOCKERFILE_CHECK": "error=yes" } });
  assert.equal(arg.error?.message,
    "failed to parse build-arg:BUILDKIT_DOCKERFILE_CHECK: failed to parse check option \"error=yes\": strconv.ParseBool: parsing \"yes\": invalid syntax");
  assert.equal((arg.error as GantryError).code, "InvalidArgument");
});

test("a # check= comment applies to its own instruction only", async () => {
  const run = await runChecks([
    "# check=skip=StageNameCasing",
    "FROM scratch AS Upper",
    "WORKDIR rel",
    "# check=skip=JSONArgsRecommended",
    "CMD mycommand",
    "# check=skip=all // local to this instruction",
    "ENV password=bar",
    "ENV token=bar",
    "# check=skip=MaintainerDeprecated",
    "MAINTAINER me@example.org",
    "",
  ].join("\n"));
  assert.deepEqual(run.shorts, [
    "WorkdirRelativePath: Relative workdir \"rel\" can have unexpected results if the base image changes (line 3)",
    "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV \"token\") (line 8)",
  ]);
});

test("experimental rules are off by default and not affected by skip", async () => {
  const df = "# wrong description\nARG foo\nFROM scratch\n";
  assert.deepEqual((await runChecks(df)).shorts, []);
  const on = await runChecks(`# check=skip=all;experimental=InvalidDefinitionDescription\n\n${df}`);
  assert.equal(on.shorts.length, 1);
  assert.match(on.shorts[0], /^InvalidDefinitionDescription: .* \(line 4\)$/);
});

test("violations before a parse error are still reported", async () => {
  const run = await runChecks("\nFROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\nMAINTAINER again\n");
  assert.deepEqual(run.shorts, [
    "StageNameCasing: Stage name 'BadStageName' should be lowercase (line 2)",
    "MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 3)",
  ]);
  assert.match(run.error?.message ?? "", /^Dockerfile:4: dockerfile parse error on line 4: unknown instruction: BADCMD/);
});

test("without a callback the converter returns the warnings in the bridge's shape", async () => {
  const result = await dockerfileToLLB("FROM scratch\nMAINTAINER me\n", { resolveImageConfig: createFakeResolver() });
  assert.deepEqual(result.warnings, [{
    short: "MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)",
    detail: ["The MAINTAINER instruction is deprecated, use a label instead to define an image author"],
    url: "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/",
    level: 1,
    location: { filename: "Dockerfile", line: 2 },
    ranges: [{ start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }],
  }]);
});

test("the frontend sends each warning to bridge.warn, also when error=true fails the build", async () => {
  const warned: Parameters<FrontendBridge["warn"]>[0][] = [];
  const bridge: FrontendBridge = {
    async solve() { return { id: "dockerfile" }; },
    async readFile(_ref, path) {
      if (path !== "build.Dockerfile") throw new GantryError("NotFound", `${path} not found`);
      return new TextEncoder().encode("# check=error=true\nFROM scratch\nCMD run me\n");
    },
    async readDir() { return []; },
    async statFile() { throw new GantryError("Unimplemented", "statFile"); },
    resolveImageConfig: createFakeResolver(),
    async inputs() { return {}; },
    warn(w) { warned.push(w); },
  };
  await assert.rejects(createDockerfileFrontend().solve(bridge, { filename: "build.Dockerfile" }, {}),
    { message: "lint violation found for rules: JSONArgsRecommended" });
  assert.deepEqual(warned, [{
    short: "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 3)",
    detail: ["JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals"],
    url: "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
    level: 1,
    location: { filename: "build.Dockerfile", line: 3 },
    ranges: [{ start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }],
  }]);
});
