// Every rule against a Dockerfile that breaks it (exact upstream short text and line) and one that
// does not. Cases follow upstream's dockerfile_check_test.go.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ALL_RULES, kebabCase } from "./check-rules.js";
import { runChecks } from "./testing/run-checks.js";

const BB = "localhost:5000/cf/busybox:1";

interface RuleCase {
  rule: string;
  bad: string;
  /** The `Rule: message (line N)` texts the bad Dockerfile must produce, in order. */
  expected: string[];
  good: string;
  attrs?: Record<string, string>;
  dockerignore?: string[];
}

const CASES: RuleCase[] = [
  {
    rule: "StageNameCasing",
    bad: "FROM scratch AS BadStageName\n",
    expected: ["StageNameCasing: Stage name 'BadStageName' should be lowercase (line 1)"],
    good: "FROM scratch AS good-name\n",
  },
  {
    rule: "FromAsCasing",
    bad: "from scratch AS base\n",
    expected: ["FromAsCasing: 'AS' and 'from' keywords' casing do not match (line 1)"],
    good: "from scratch as base\nfrom scratch as base2\n",
  },
  {
    rule: "NoEmptyContinuation",
    bad: "FROM scratch\nCOPY Dockerfile \\\n\n.\n",
    expected: ["NoEmptyContinuation: Empty continuation line (line 4)"],
    good: "FROM scratch\nCOPY Dockerfile \\\n.\n",
  },
  {
    rule: "ConsistentInstructionCasing",
    bad: "FROM scratch\ncopy Dockerfile /foo\nCOPY Dockerfile /bar\nFrom scratch\n",
    expected: [
      "ConsistentInstructionCasing: Command 'copy' should match the case of the command majority (uppercase) (line 2)",
      "ConsistentInstructionCasing: Command 'From' should match the case of the command majority (uppercase) (line 4)",
    ],
    good: "from scratch\ncopy Dockerfile /foo\n",
  },
  {
    rule: "DuplicateStageName",
    bad: "FROM scratch AS b\nFROM scratch AS b\n",
    expected: ["DuplicateStageName: Duplicate stage name \"b\", stage names should be unique (line 2)"],
    good: "FROM scratch AS b1\nFROM scratch AS b2\n",
  },
  {
    rule: "ReservedStageName",
    bad: "FROM scratch AS scratch\nFROM scratch AS context\n",
    expected: [
      "ReservedStageName: Stage name should not use the same name as reserved stage \"scratch\" (line 1)",
      "ReservedStageName: Stage name should not use the same name as reserved stage \"context\" (line 2)",
    ],
    good: "FROM scratch\nFROM scratch AS a\n",
  },
  {
    rule: "JSONArgsRecommended",
    bad: "FROM scratch\nCMD mycommand\nENTRYPOINT mycommand\n",
    expected: [
      "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 2)",
      "JSONArgsRecommended: JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals (line 3)",
    ],
    // A SHELL in a base stage counts too.
    good: "FROM scratch AS base\nSHELL [\"/usr/bin/customshell\"]\n\nFROM base\nCMD mycommand\n",
  },
  {
    rule: "MaintainerDeprecated",
    bad: "FROM scratch\nMAINTAINER me@example.org\n",
    expected: ["MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)"],
    good: "FROM scratch\nLABEL org.opencontainers.image.authors=\"me@example.org\"\n",
  },
  {
    rule: "UndefinedArgInFrom",
    bad: `ARG tag=1\nFROM ${BB.slice(0, -2)}:\${tag}\${version} AS b\n`,
    expected: ["UndefinedArgInFrom: FROM argument 'version' is not declared (line 2)"],
    good: "ARG DEBUG\nFROM scratch${DEBUG}\nFROM --platform=$BUILDPLATFORM scratch\n",
  },
  {
    rule: "WorkdirRelativePath",
    bad: "FROM scratch\nWORKDIR app/\n",
    expected: ["WorkdirRelativePath: Relative workdir \"app/\" can have unexpected results if the base image changes (line 2)"],
    good: "FROM scratch AS a\nWORKDIR /app\n\nFROM a AS b\nWORKDIR subdir/\n",
  },
  {
    rule: "UndefinedVar",
    bad: `FROM ${BB}\nARG DIR_ASSETS=assets/\nCOPY $DIR_ASSET .\nCOPY $foo .\nARG foo=bar\nENV PATH=$PAHT:/tmp/bin\n`,
    expected: [
      "UndefinedVar: Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?) (line 3)",
      "UndefinedVar: Usage of undefined variable '$foo' (line 4)",
      "UndefinedVar: Usage of undefined variable '$PAHT' (did you mean $PATH?) (line 6)",
    ],
    good: `FROM ${BB} AS base\nARG foo=Dockerfile\nARG bare\nRUN echo $PATH $undefined_in_run\n\nFROM base\nCOPY $foo$bare .\n`,
  },
  {
    rule: "MultipleInstructionsDisallowed",
    bad: "FROM scratch\nENTRYPOINT [\"/a\"]\nCMD [\"/a\"]\nHEALTHCHECK CMD [\"/a\"]\nCOPY a /a\n" +
      "ENTRYPOINT [\"/b\"]\nCMD [\"/b\"]\nHEALTHCHECK CMD [\"/b\"]\n",
    expected: [
      "MultipleInstructionsDisallowed: Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used (line 2)",
      "MultipleInstructionsDisallowed: Multiple CMD instructions should not be used in the same stage because only the last one will be used (line 3)",
      "MultipleInstructionsDisallowed: Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used (line 4)",
    ],
    good: "FROM scratch AS a\nENTRYPOINT [\"/a\"]\nCMD [\"/a\"]\n\nFROM a AS b\nENTRYPOINT [\"/b\"]\nCMD [\"/b\"]\n",
  },
  {
    rule: "LegacyKeyValueFormat",
    bad: "FROM scratch\nENV testkey value\nLABEL key value\n",
    expected: [
      "LegacyKeyValueFormat: \"ENV key=value\" should be used instead of legacy \"ENV key value\" format (line 2)",
      "LegacyKeyValueFormat: \"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format (line 3)",
    ],
    // Stages the target does not need are not dispatched, so not checked.
    good: "FROM scratch AS a\nENV testkey=value\nLABEL key=value\n\nFROM a AS b\nENV testkey value\n\nFROM a AS c\n",
  },
  {
    rule: "InvalidDefaultArgInFrom",
    bad: `ARG IMAGE\nARG VERSION\nFROM $IMAGE\nFROM ${BB.slice(0, -2)}:$VERSION\n`,
    attrs: { "build-arg:IMAGE": BB, "build-arg:VERSION": "1" },
    expected: [
      "InvalidDefaultArgInFrom: Default value for ARG $IMAGE results in empty or invalid base image name (line 3)",
      `InvalidDefaultArgInFrom: Default value for ARG ${BB.slice(0, -2)}:$VERSION results in empty or invalid base image name (line 4)`,
    ],
    good: `ARG VERSION=1\nARG VARIANT\nFROM ${BB.slice(0, -2)}:\${VERSION}\nFROM ${BB}\${VARIANT}\n`,
  },
  {
    rule: "FromPlatformFlagConstDisallowed",
    bad: "FROM --platform=linux/amd64 scratch\n",
    expected: ["FromPlatformFlagConstDisallowed: FROM --platform flag should not use constant value \"linux/amd64\" (line 1)"],
    good: "FROM --platform=linux/amd64 scratch AS my_amd64_stage\nFROM --platform=linux/amd64 scratch AS linux\n",
  },
  {
    rule: "CopyIgnoredFile",
    bad: "FROM scratch\nCOPY Dockerfile .\nADD ./Dockerfile /windy\n",
    dockerignore: ["Dockerfile"],
    expected: [
      "CopyIgnoredFile: Attempting to Copy file \"Dockerfile\" that is excluded by .dockerignore (line 2)",
      "CopyIgnoredFile: Attempting to Add file \"Dockerfile\" that is excluded by .dockerignore (line 3)",
    ],
    good: "FROM scratch AS base\nCOPY . .\nFROM base\nCOPY --from=base /Dockerfile /Dockerfile\n",
  },
  {
    rule: "RedundantTargetPlatform",
    bad: "FROM --platform=$TARGETPLATFORM scratch\nFROM --platform=${TARGETPLATFORM} scratch\n",
    expected: [
      "RedundantTargetPlatform: Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior (line 1)",
      "RedundantTargetPlatform: Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior (line 2)",
    ],
    good: "FROM --platform=$BUILDPLATFORM scratch\n",
  },
  {
    rule: "SecretsUsedInArgOrEnv",
    bad: "FROM scratch\nARG SECRET_PASSPHRASE\nENV password=bar apikey=baz\nARG super_duper_secret_token=foo auth=bar\nENV git_key=\n",
    expected: [
      "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG \"SECRET_PASSPHRASE\") (line 2)",
      "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV \"password\") (line 3)",
      "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV \"apikey\") (line 3)",
      "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG \"super_duper_secret_token\") (line 4)",
      "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG \"auth\") (line 4)",
      "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV \"git_key\") (line 5)",
    ],
    good: "FROM scratch\nENV sunflower=foo PUBLIC_KEY=\nARG public_token\nARG SECRET_PASSPHRASE_FILE\n" +
      "ENV password_file=bar secret_File=baz\nARG AUTH_MODULE_VERSION\n",
  },
  {
    rule: "InvalidDefinitionDescription",
    bad: "# check=experimental=InvalidDefinitionDescription\n# bar this is the bar\nARG foo=bar\n" +
      "# BasE this is the BasE image\nFROM scratch AS base\n# definitely a bad comment\nARG foo=baz bar=qux\n",
    expected: [
      "InvalidDefinitionDescription: Comment for ARG should follow the format: `# foo <description>` (line 3)",
      "InvalidDefinitionDescription: Comment for FROM should follow the format: `# base <description>` (line 5)",
      "InvalidDefinitionDescription: Comment for ARG should follow the format: `# <arg_key> <description>` (line 7)",
    ],
    good: "# check=experimental=InvalidDefinitionDescription\n# foo this is the foo\nARG foo=bar\n\n" +
      "# base this is the base image\nFROM scratch AS base\n# baz this is the baz\nARG foo=baz bar=qux baz=quux\n#\nARG bit=bat\n" +
      "# comment for something other than ARG or FROM\nCOPY Dockerfile .\n",
  },
  {
    rule: "ExposeProtoCasing",
    bad: "FROM scratch\nEXPOSE 80/TcP 8080/udp\n",
    expected: ["ExposeProtoCasing: Defined protocol '80/TcP' in EXPOSE instruction should be lowercase (line 2)"],
    good: "FROM scratch\nEXPOSE 80/tcp 8080\n",
  },
  {
    rule: "ExposeInvalidFormat",
    bad: "FROM scratch\nEXPOSE 5000:5000\n",
    expected: ["ExposeInvalidFormat: EXPOSE instruction should not define an IP address or host-port mapping, found '5000:5000' (line 2)"],
    good: "FROM scratch\nEXPOSE 5000\n",
  },
];

for (const c of CASES) {
  test(`${c.rule}: reported with upstream's text and line`, async () => {
    const run = await runChecks(c.bad, { ...(c.attrs ? { attrs: c.attrs } : {}), ...(c.dockerignore ? { dockerignore: c.dockerignore } : {}) });
    assert.equal(run.error, undefined, run.error?.message);
    assert.deepEqual(run.shorts, c.expected);
    for (const w of run.warnings) {
      assert.equal(w.url, `https://docs.docker.com/go/dockerfile/rule/${kebabCase(c.rule)}/`);
      assert.equal(w.description, ALL_RULES.find((r) => r.name === c.rule)?.description);
    }
  });
  test(`${c.rule}: silent on a Dockerfile that follows it`, async () => {
    const run = await runChecks(c.good, { ...(c.attrs ? { attrs: c.attrs } : {}), ...(c.dockerignore ? { dockerignore: c.dockerignore } : {}) });
    assert.equal(run.error, undefined, run.error?.message);
    assert.deepEqual(run.shorts, []);
  });
}

test("every rule with a docs page has a case here", () => {
  const covered = new Set(CASES.map((c) => c.rule));
  const missing = ALL_RULES.filter((r) => r.url !== "" && !covered.has(r.name)).map((r) => r.name);
  assert.deepEqual(missing, []);
});

test("rule URLs are the kebab-case docs pages", () => {
  assert.equal(kebabCase("JSONArgsRecommended"), "json-args-recommended");
  assert.equal(kebabCase("FromPlatformFlagConstDisallowed"), "from-platform-flag-const-disallowed");
  assert.equal(ALL_RULES.length, 22);
  const experimental = ALL_RULES.filter((r) => r.experimental).map((r) => r.name);
  assert.deepEqual(experimental, ["InvalidDefinitionDescription"]);
});

test("a location covers every line of the instruction", async () => {
  const run = await runChecks("FROM scratch\nENV a \\\n  b\n");
  assert.equal(run.warnings.length, 1);
  assert.deepEqual(run.warnings[0].location.map((r) => r.start.line), [2, 3]);
});
