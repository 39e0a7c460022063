// The Dockerfile frontend's subrequests through the CLI (`gantry build --call …`, `--opt requestid=…`):
// lint, outline and targets answer on stdout without building; no step of the Dockerfile runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "./helpers/requires.js";
import { runGantry, type CliResult } from "./helpers/gantry-cli.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;
const BUSYBOX = "localhost:5000/cf/busybox:1";

// Two violations (FromAsCasing on line 2, MaintainerDeprecated on line 3); the RUN would fail if it ran.
const TWO_VIOLATIONS = `\nFROM ${BUSYBOX} as base\nMAINTAINER me\nRUN exit 3\n`;

async function withDir(fn: (dir: string, call: (dockerfile: string, ...flags: string[]) => Promise<CliResult>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "gantry-subreq-"));
  try {
    await fn(dir, async (dockerfile, ...flags) => {
      await writeFile(join(dir, "Dockerfile"), dockerfile);
      return runGantry(["--root", join(dir, "root"), "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`,
        "--local", `dockerfile=${dir}`, "--progress", "plain", ...flags]);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Nothing was executed: no RUN vertex in the progress output. */
function assertNothingRan(res: CliResult): void {
  assert.doesNotMatch(res.stderr, /RUN exit 3|exit code: 3/, res.stderr);
}

test("--call check prints both violations with their lines and exits 1 (0 with ignorestatus), building nothing", async (t) => {
  if (!requires(t, NEEDS)) return;
  await withDir(async (_dir, build) => {
    const res = await build(TWO_VIOLATIONS, "--call", "check");
    const out = res.stdout.toString("utf8");
    assert.equal(res.code, 1, res.stderr);
    assert.match(out, /WARNING: FromAsCasing - https:\/\/docs\.docker\.com\/go\/dockerfile\/rule\/from-as-casing\/\n'as' and 'FROM' keywords' casing do not match\nDockerfile:2\n/);
    assert.match(out, /WARNING: MaintainerDeprecated - \S+\nMaintainer instruction is deprecated in favor of using label\nDockerfile:3\n/);
    assert.match(out, / {3}3 \| >>> MAINTAINER me\n/);
    assertNothingRan(res);
    const lenient = await build(TWO_VIOLATIONS, "--call", "check,ignorestatus=true");
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.equal(lenient.stdout.toString("utf8"), out);
    const clean = await build(`FROM ${BUSYBOX}\nRUN exit 3\n`, "--check");
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stdout.toString("utf8"), "");
  });
});

test("with check=error=true lint exits 1 and names the rules on stderr; --opt requestid and format=json work too", async (t) => {
  if (!requires(t, NEEDS)) return;
  await withDir(async (_dir, build) => {
    const res = await build(`# check=error=true${TWO_VIOLATIONS}`, "--opt", "requestid=frontend.lint");
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /ERROR: lint violation found for rules: FromAsCasing, MaintainerDeprecated/);
    assert.match(res.stdout.toString("utf8"), /WARNING: FromAsCasing/);
    assertNothingRan(res);
    const json = await build(TWO_VIOLATIONS, "--call", "check,format=json,ignorestatus=true");
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout.toString("utf8")) as { warnings: Array<{ ruleName: string; location: unknown }> };
    assert.deepEqual(parsed.warnings.map((w) => [w.ruleName, w.location]), [
      ["FromAsCasing", { ranges: [{ start: { line: 2 }, end: { line: 2 } }] }],
      ["MaintainerDeprecated", { ranges: [{ start: { line: 3 }, end: { line: 3 } }] }],
    ]);
  });
});

test("--call outline lists the target's ARGs with their comment descriptions", async (t) => {
  if (!requires(t, NEEDS)) return;
  await withDir(async (_dir, build) => {
    const dockerfile = [
      "# VERSION is the release to build",
      "ARG VERSION=1.2",
      "ARG UNUSED=x",
      `FROM ${BUSYBOX} AS app`,
      "# GREETING says hello",
      "ARG GREETING=hi",
      "RUN --mount=type=secret,id=token,required=true exit 3",
    ].join("\n");
    const res = await build(dockerfile, "--call", "outline", "--opt", "build-arg:VERSION=2.0");
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.toString("utf8"), [
      "TARGET: app",
      "",
      "BUILD ARG   VALUE   DESCRIPTION",
      "GREETING    hi      says hello",
      "",
      "SECRET   REQUIRED",
      "token    true",
      "",
      "",
    ].join("\n"));
    assertNothingRan(res);
    const withGlobal = await build(dockerfile.replace(`FROM ${BUSYBOX} AS app`, `FROM localhost:5000/cf/busybox:\${VERSION%.*} AS app`),
      "--call", "outline,format=json", "--opt", "build-arg:VERSION=1.0");
    assert.equal(withGlobal.code, 0, withGlobal.stderr);
    const o = JSON.parse(withGlobal.stdout.toString("utf8")) as { args: Array<{ name: string; value?: string; description?: string }> };
    assert.deepEqual(o.args.map((a) => [a.name, a.value, a.description]), [
      ["VERSION", "1.0", "is the release to build"], ["GREETING", "hi", "says hello"],
    ]);
  });
});

test("--call targets lists the stages with the last as default; an unknown request names itself", async (t) => {
  if (!requires(t, NEEDS)) return;
  await withDir(async (_dir, build) => {
    const dockerfile = `# build compiles it\nFROM ${BUSYBOX} AS build\nRUN exit 3\n\nFROM build AS release\n`;
    const res = await build(dockerfile, "--call", "targets");
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.toString("utf8"), "TARGET            DESCRIPTION\nbuild             compiles it\nrelease (default) \n");
    assertNothingRan(res);
    const describe = await build(dockerfile, "--call", "subrequests.describe");
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout.toString("utf8"), /^NAME +VERSION DESCRIPTION\noutline +1\.0\.0 /);
    const bad = await build(dockerfile, "--opt", "requestid=frontend.bogus");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unsupported request frontend\.bogus/);
  });
});
