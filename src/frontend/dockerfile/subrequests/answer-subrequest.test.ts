import { test } from "node:test";
import assert from "node:assert/strict";
import { GantryError } from "../../../util/errors.js";
import type { FrontendBridge } from "../../frontend.js";
import { createDockerfileFrontend } from "../dockerfile-frontend.js";
import { createFakeResolver } from "../convert/testing/cf-images.js";
import { answerSubrequest } from "./answer-subrequest.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

function fakeBridge(files: Record<string, string>, solved: string[], warned: unknown[] = []): FrontendBridge {
  return {
    async solve() {
      solved.push("solve");
      return { id: `r${solved.length}` };
    },
    async readFile(_ref, path) {
      const f = files[path];
      if (f === undefined) throw new GantryError("NotFound", `${path} not found`);
      return enc(f);
    },
    async readDir() { return []; },
    async statFile() { throw new GantryError("Unimplemented", "statFile"); },
    resolveImageConfig: createFakeResolver(),
    async inputs() { return {}; },
    warn(w) { warned.push(w); },
  };
}

test("an unknown requestid is InvalidArgument naming it", async () => {
  await assert.rejects(answerSubrequest("frontend.bogus", enc("FROM scratch\n"), {
    convert: { resolveImageConfig: createFakeResolver() }, dockerignore: async () => [],
  }), (err: unknown) => err instanceof GantryError && err.code === "InvalidArgument" && /frontend\.bogus/.test(err.message));
});

test("the frontend answers a subrequest with metadata only: no definition, no context loaded", async () => {
  const solved: string[] = [];
  const fe = createDockerfileFrontend();
  const bridge = fakeBridge({ Dockerfile: "FROM scratch AS a\nFROM a\n" }, solved);
  const res = await fe.solve(bridge, { requestid: "frontend.targets" }, {});
  assert.equal(res.definition.length, 0);
  assert.equal(res.refs, undefined);
  assert.equal(dec(res.metadata["result.txt"]), "TARGET    DESCRIPTION\na         \n(default) \n");
  // Only the Dockerfile was loaded: targets needs neither the context nor its .dockerignore.
  assert.equal(solved.length, 1);
});

test("lint through the frontend reads .dockerignore and keeps its warnings out of the progress stream", async () => {
  const solved: string[] = [];
  const warned: unknown[] = [];
  const bridge = fakeBridge({ Dockerfile: "FROM scratch\nCOPY secret.txt /\n", ".dockerignore": "secret.txt\n" }, solved, warned);
  const res = await createDockerfileFrontend().solve(bridge, { requestid: "frontend.lint", "build-arg:BUILDKIT_DOCKERFILE_CHECK": "experimental=all" }, {});
  const json = JSON.parse(dec(res.metadata["result.json"])) as { warnings: Array<{ ruleName: string }> };
  assert.deepEqual(json.warnings.map((w) => w.ruleName), ["CopyIgnoredFile"]);
  assert.equal(dec(res.metadata["result.statuscode"]), "1");
  assert.deepEqual(warned, []);
  const outline = await createDockerfileFrontend().solve(fakeBridge({ Dockerfile: "FROM scratch\nCMD run me\n" }, [], warned),
    { requestid: "frontend.outline" }, {});
  assert.match(dec(outline.metadata["result.json"]), /"sources"/);
  assert.equal(warned.length, 1, "outline reports check warnings as a build would");
});
