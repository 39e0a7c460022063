// The dockerfile-diff corpus at the config level: every case's image config and history must equal what
// upstream BuildKit produced (expected/NAME/config.json); failing cases must fail with the case's regex
// unless they fail only when solved (a missing file or URL).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { marshalDefinition } from "../../../llb/state.js";
import { readDockerignore } from "../../../util/pattern-matcher.js";
import { dockerfileToLLB } from "./dockerfile-to-llb.js";
import { createFakeResolver } from "./testing/cf-images.js";
import { sharedPath } from "../../../util/testing/shared-path.js";
import { caseAttrs } from "./testing/corpus-case.js";

const ROOT = sharedPath("conformance/dockerfile-diff");
// These fail in upstream only while solving (a 404 URL, a source missing from the context).
const SOLVE_TIME_FAILURES = new Set(["fail-add-url-404", "fail-copy-missing-source"]);

interface Comparable {
  architecture?: string;
  os?: string;
  author?: string;
  config?: unknown;
  history: { created_by?: string; comment?: string; empty_layer: boolean }[];
}

function comparable(img: { architecture?: string; os?: string; author?: string; config?: unknown; history?: { created_by?: string; comment?: string; empty_layer?: boolean }[] }): Comparable {
  return {
    architecture: img.architecture, os: img.os, author: img.author, config: img.config,
    history: (img.history ?? []).map((h) => ({ created_by: h.created_by, comment: h.comment, empty_layer: h.empty_layer === true })),
  };
}

const cases = existsSync(ROOT) ? readdirSync(join(ROOT, "cases")).sort() : [];

test("the corpus is present", () => {
  assert.equal(cases.length, 30);
});

for (const name of cases) {
  test(`dockerfile-diff ${name}`, async () => {
    const dir = join(ROOT, "cases", name);
    const ignore = existsSync(join(dir, ".dockerignore")) ? readDockerignore(readFileSync(join(dir, ".dockerignore"), "utf8")) : [];
    const convert = () => dockerfileToLLB(readFileSync(join(dir, "Dockerfile")), {
      attrs: caseAttrs(dir), resolveImageConfig: createFakeResolver(), platform: { os: "linux", architecture: "amd64" },
      dockerignorePatterns: ignore,
    });
    const fails = existsSync(join(dir, "fails")) ? readFileSync(join(dir, "fails"), "utf8").trim() : undefined;
    if (fails !== undefined && !SOLVE_TIME_FAILURES.has(name)) {
      await assert.rejects(convert(), (err: Error) => new RegExp(fails, "i").test(err.message) && /^Dockerfile:\d+: /.test(err.message));
      return;
    }
    const result = await convert();
    assert.ok(marshalDefinition(result.state, result.marshalOptions).length > 0);
    if (fails !== undefined) return;
    const expected = JSON.parse(readFileSync(join(ROOT, "expected", name, "config.json"), "utf8"));
    const got = JSON.parse(new TextDecoder().decode(result.imageConfigBytes));
    assert.deepEqual(comparable(got), comparable(expected));
  });
}
