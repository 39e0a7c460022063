// The dockerfile-diff corpus with checks on: warnings never break a build that converts, a failing case
// still fails with its own error, and error=true fails exactly the cases that have warnings.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { readDockerignore } from "../../../util/pattern-matcher.js";
import { sharedPath } from "../../../util/testing/shared-path.js";
import { caseAttrs } from "../convert/testing/corpus-case.js";
import { ALL_RULES } from "./check-rules.js";
import { runChecks } from "./testing/run-checks.js";

const ROOT = sharedPath("conformance/dockerfile-diff");
// These fail in upstream only while solving, so they convert.
const SOLVE_TIME_FAILURES = new Set(["fail-add-url-404", "fail-copy-missing-source"]);
const RULE_NAMES = new Set(ALL_RULES.map((r) => r.name));

const cases = readdirSync(join(ROOT, "cases")).sort();

test("the corpus has its 30 Dockerfiles", () => {
  assert.equal(cases.length, 30);
});

for (const name of cases) {
  test(`corpus ${name} converts with checks on`, async () => {
    const dir = join(ROOT, "cases", name);
    const dockerfile = readFileSync(join(dir, "Dockerfile"), "utf8");
    const dockerignore = existsSync(join(dir, ".dockerignore")) ? readDockerignore(readFileSync(join(dir, ".dockerignore"), "utf8")) : [];
    const attrs = caseAttrs(dir);
    const run = await runChecks(dockerfile, { attrs, dockerignore });
    for (const w of run.warnings) {
      assert.ok(RULE_NAMES.has(w.rule), w.rule);
      assert.ok(w.location.length > 0 && w.location[0].start.line > 0, `${w.rule} has a line`);
    }
    const fails = existsSync(join(dir, "fails")) ? readFileSync(join(dir, "fails"), "utf8").trim() : undefined;
    if (fails !== undefined && !SOLVE_TIME_FAILURES.has(name)) {
      assert.match(run.error?.message ?? "", new RegExp(fails, "i"));
      return;
    }
    assert.equal(run.error, undefined, run.error?.message);
    const strict = await runChecks(dockerfile, { attrs: { ...attrs, "build-arg:BUILDKIT_DOCKERFILE_CHECK": "error=true" }, dockerignore });
    const fired = [...new Set(run.warnings.map((w) => w.rule))];
    if (fired.length === 0) assert.equal(strict.error, undefined);
    else assert.equal(strict.error?.message, `lint violation found for rules: ${fired.join(", ")}`);
  });
}
