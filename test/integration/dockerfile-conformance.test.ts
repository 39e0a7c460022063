// The differential corpus (shared/conformance/dockerfile-diff): every case must give upstream BuildKit's
// filesystem and image config, or fail for the same reason. run.sh drives the real CLI; each case is a subtest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { requires } from "./helpers/requires.js";
import { CLI } from "./helpers/gantry-cli.js";

const run = promisify(execFile);
const RUNNER = resolve(process.cwd(), "../shared/conformance/dockerfile-diff/run.sh");

test("dockerfile-diff corpus matches upstream BuildKit", async (t) => {
  if (!requires(t, { root: true, runc: true, overlay: true, registry: true, tools: ["python3", "curl"] })) return;
  const root = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "conformance-root");
  const out = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "conformance-results");
  const { stdout } = await run("bash", [RUNNER, `${process.execPath} ${CLI} --root ${root}`], {
    env: { ...process.env, CF_OUT: out }, maxBuffer: 16 * 1024 * 1024, timeout: 20 * 60_000,
  }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ""}\n${err.stderr ?? ""}` }));
  const lines = stdout.split("\n").filter((l) => /^(PASS|ERROR-MATCH|FAIL|ERROR|ERROR-MISMATCH|UNEXPECTED-PASS) /.test(l));
  assert.ok(lines.length >= 30, `the runner reported ${lines.length} cases:\n${stdout}`);
  const summary = stdout.split("\n").find((l) => /^\d+ passed, \d+ failed$/.test(l));
  t.diagnostic(`dockerfile-diff runner: ${summary ?? "no summary line"}`);
  for (const line of lines) {
    const [verdict, name] = line.split(" ");
    await t.test(name, () => {
      assert.ok(verdict === "PASS" || verdict === "ERROR-MATCH", `${line} (details in ${join(out, "results", name)})`);
    });
  }
});
