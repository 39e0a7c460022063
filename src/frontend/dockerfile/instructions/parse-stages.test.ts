import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDockerfile } from "../parser/parser.js";
import type { AddCommand, CopyCommand, HealthcheckCommand, OnbuildCommand, RunCommand } from "./commands.js";
import { parseStages } from "./parse-stages.js";

function stagesOf(text: string) {
  return parseStages(parseDockerfile(text).ast);
}

function firstCommand<T>(text: string): T {
  return stagesOf(text).stages[0].commands[0] as T;
}

test("meta args before the first FROM, stages with names lower-cased", () => {
  const { stages, metaArgs } = stagesOf("ARG A=1 B\nFROM --platform=linux/arm64 img AS Build\nRUN x\nFROM build\n");
  assert.deepEqual(metaArgs[0].args, [{ key: "A", value: "1" }, { key: "B" }]);
  assert.equal(stages.length, 2);
  assert.equal(stages[0].name, "build");
  assert.equal(stages[0].platform, "linux/arm64");
  assert.equal(stages[0].commands.length, 1);
  assert.equal(stages[1].baseName, "build");
});

test("errors name the line and suggest close names", () => {
  assert.throws(() => stagesOf("FROM a\nRUN x\nFROOB y\n"),
    { message: "dockerfile parse error on line 3: unknown instruction: FROOB (did you mean FROM?)", line: 3 });
  assert.throws(() => stagesOf("FROM a\nCOPY --form=x a b\n"), /unknown flag: --form \(did you mean from\?\)/);
  assert.throws(() => stagesOf("FROM a\nCOPY a\n"), /line 2: COPY requires at least two arguments/);
  assert.throws(() => stagesOf("FROM a AS 1x\n"), /invalid name for build stage/);
  assert.throws(() => stagesOf("RUN x\n"), /no build stage in current context/);
  assert.throws(() => stagesOf("FROM a\nSHELL /bin/sh -c\n"), /line 2: SHELL requires the arguments to be in JSON form/);
  assert.throws(() => stagesOf("FROM a\nCOPY --link --link a b\n"), /duplicate flag specified: --link/);
});

test("COPY and ADD flags and heredoc sources", () => {
  const c = firstCommand<CopyCommand>("FROM a\nCOPY --from=b --chown=1:2 --chmod=755 --link --exclude=*.md --exclude=x --parents s1 s2 /d/\n");
  assert.equal(c.from, "b");
  assert.equal(c.chown, "1:2");
  assert.equal(c.chmod, "755");
  assert.equal(c.link, true);
  assert.equal(c.parents, true);
  assert.deepEqual(c.excludePatterns, ["*.md", "x"]);
  assert.deepEqual(c.sources, { destPath: "/d/", sourcePaths: ["s1", "s2"], sourceContents: [] });
  const h = firstCommand<CopyCommand>("FROM a\nCOPY <<EOF /f\nhi $X\nEOF\n");
  assert.deepEqual(h.sources.sourceContents, [{ path: "EOF", data: "hi $X\n", expand: true }]);
  const add = firstCommand<AddCommand>("FROM a\nADD --keep-git-dir --checksum=sha256:abc --unpack=false u /d\n");
  assert.equal(add.keepGitDir, true);
  assert.equal(add.unpack, false);
  assert.equal(add.checksum, "sha256:abc");
});

test("RUN mounts, network and security", () => {
  const r = firstCommand<RunCommand>("FROM a\nRUN --mount=type=cache,target=/c,from=b --network=none --security=insecure make\n");
  assert.equal(r.mounts[0].from, "b");
  assert.equal(r.network, "none");
  assert.equal(r.security, "insecure");
  assert.deepEqual(r.cmdLine, ["make"]);
  assert.equal(r.prependShell, true);
  assert.throws(() => stagesOf("FROM a\nRUN --network=bridge x\n"), /invalid network mode "bridge"/);
  assert.throws(() => stagesOf("FROM a\nRUN --mount=from=$X,target=/t x\n"), /doesn't support variable expansion/);
});

test("HEALTHCHECK with every option, and NONE", () => {
  const h = firstCommand<HealthcheckCommand>(
    "FROM a\nHEALTHCHECK --interval=5s --timeout=3s --start-period=1m30s --start-interval=2s --retries=4 CMD [\"/bin/true\"]\n");
  assert.deepEqual(h.health, { test: ["CMD", "/bin/true"], interval: 5e9, timeout: 3e9, startPeriod: 90e9, startInterval: 2e9, retries: 4 });
  assert.deepEqual(firstCommand<HealthcheckCommand>("FROM a\nHEALTHCHECK CMD true\n").health.test, ["CMD-SHELL", "true"]);
  assert.deepEqual(firstCommand<HealthcheckCommand>("FROM a\nHEALTHCHECK NONE\n").health.test, ["NONE"]);
  assert.throws(() => stagesOf("FROM a\nHEALTHCHECK --interval=1us CMD x\n"), /cannot be less than 1ms/);
});

test("ONBUILD keeps the trigger text and rejects chaining", () => {
  assert.equal(firstCommand<OnbuildCommand>("FROM a\nONBUILD RUN echo hi\n").expression, "RUN echo hi");
  assert.throws(() => stagesOf("FROM a\nONBUILD ONBUILD RUN x\n"), /Chaining ONBUILD/);
  assert.throws(() => stagesOf("FROM a\nONBUILD FROM x\n"), /FROM isn't allowed as an ONBUILD trigger/);
});
