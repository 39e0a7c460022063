import { test } from "node:test";
import assert from "node:assert/strict";
import type { FrontendBridge, FrontendResult } from "../frontend.js";
import { forwardSyntax, isBuiltinFrontend, syntaxTarget } from "./syntax-forward.js";

test("a syntax directive naming another image forwards with source and the whole cmdline", () => {
  assert.deepEqual(syntaxTarget("# syntax=localhost:5000/fe:1 --flag\nFROM scratch\n", {}),
    { source: "localhost:5000/fe:1", cmdline: "localhost:5000/fe:1 --flag" });
  assert.deepEqual(syntaxTarget("#!/usr/bin/env x\n# syntax = reg/fe\nFROM scratch\n", {}), { source: "reg/fe", cmdline: "reg/fe" });
});

test("BUILDKIT_SYNTAX wins over the directive; cmdline (a forwarded run) stops forwarding", () => {
  const df = "# syntax=reg/a\nFROM scratch\n";
  assert.equal(syntaxTarget(df, { "build-arg:BUILDKIT_SYNTAX": " reg/b x " })?.source, "reg/b");
  assert.equal(syntaxTarget(df, { "build-arg:BUILDKIT_SYNTAX": " reg/b x " })?.cmdline, "reg/b x");
  assert.equal(syntaxTarget(df, { cmdline: "reg/a" }), undefined);
  assert.equal(syntaxTarget("FROM scratch\n# syntax=reg/a\n", {}), undefined);
});

test("Docker's own Dockerfile frontend images are the built-in frontend", () => {
  for (const ref of ["docker/dockerfile", "docker/dockerfile:1", "docker/dockerfile:1.7-labs", "docker.io/docker/dockerfile:1",
    "docker/dockerfile-upstream:master", `docker/dockerfile@sha256:${"a".repeat(64)}`, "dockerfile.v0"]) {
    assert.equal(isBuiltinFrontend(ref), true, ref);
  }
  for (const ref of ["localhost:5000/docker/dockerfile:1", "docker/dockerfiles:1", "tonistiigi/dockerfile:1", "example.com/fe"]) {
    assert.equal(isBuiltinFrontend(ref), false, ref);
  }
  assert.equal(syntaxTarget("# syntax=docker/dockerfile:1\nFROM scratch\n", {}), undefined);
});

test("forwardSyntax calls gateway.v0 on bridges that run frontends, and builds here otherwise", async () => {
  const calls: Array<{ name: string; attrs: Record<string, string> }> = [];
  const result: FrontendResult = { definition: new Uint8Array([1]), metadata: {} };
  const base = {} as FrontendBridge;
  const caller = Object.assign({} as FrontendBridge, {
    solveFrontend: async (name: string, attrs: Record<string, string>) => {
      calls.push({ name, attrs });
      return result;
    },
  });
  const df = "# syntax=reg/fe:2\nFROM scratch\n";
  assert.equal(await forwardSyntax(caller, df, { filename: "Dockerfile" }, {}), result);
  assert.deepEqual(calls, [{ name: "gateway.v0", attrs: { filename: "Dockerfile", source: "reg/fe:2", cmdline: "reg/fe:2" } }]);
  assert.equal(await forwardSyntax(base, df, {}, {}), undefined);
  assert.equal(await forwardSyntax(caller, "FROM scratch\n", {}, {}), undefined);
  assert.equal(calls.length, 1);
});
