// The LLB upstream's converter produced for shared/conformance/llb/src/*/Dockerfile: same ops (digests)
// and the same display names and descriptions.

import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";
import { sha256 } from "../../../util/digest.js";
import { dockerfileToLLB } from "./dockerfile-to-llb.js";
import { createFakeResolver } from "./testing/cf-images.js";
import { sharedPath } from "../../../util/testing/shared-path.js";

const ROOT = sharedPath("conformance/llb");
// The random local.unique upstream's run used for the context source.
const UNIQUE = "sicjkxin9x82qejr3ph6k6fny";

for (const name of ["seed", "parallel", "copy-context", "link-merge", "fileops"]) {
  test(`llb corpus ${name}`, { skip: !existsSync(ROOT) }, async () => {
    const result = await dockerfileToLLB(readFileSync(`${ROOT}/src/${name}/Dockerfile`), {
      resolveImageConfig: createFakeResolver(), platform: { os: "linux", architecture: "amd64" }, localUniqueId: UNIQUE,
    });
    const { def, metadata } = result.state.marshal(result.marshalOptions);
    const expected: { Digest: string; OpMetadata: { description?: Record<string, string>; progress_group?: { name: string } } }[] =
      readFileSync(`${ROOT}/${name}.json`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(def.map((b) => sha256(b)).sort(), expected.map((e) => e.Digest).sort());
    for (const e of expected) {
      const md = metadata.get(e.Digest as never);
      assert.ok(md, `metadata for ${e.Digest}`);
      assert.deepEqual({ ...md.description }, e.OpMetadata.description ?? {});
      assert.equal(md.progressGroup?.name, e.OpMetadata.progress_group?.name);
    }
  });
}
