import assert from "node:assert/strict";
import { test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { DefinitionSchema, OpSchema } from "../../../gen/pb/ops_pb.js";
import { marshalDefinition } from "../../../llb/state.js";
import { createNamedContextResolver } from "./named-contexts.js";
import { createFakeResolver } from "./testing/cf-images.js";

const AMD64 = { os: "linux", architecture: "amd64" };

/** The source op of a named context's state: identifier and attrs. */
async function sourceOf(value: string): Promise<{ identifier: string; attrs: Record<string, string>; name: string }> {
  const resolve = createNamedContextResolver({ "context:base": value }, createFakeResolver());
  const ctx = await resolve("base", AMD64);
  assert.ok(ctx, value);
  const def = fromBinary(DefinitionSchema, marshalDefinition(ctx.state));
  const op = fromBinary(OpSchema, def.def[0]);
  assert.equal(op.op.case, "source");
  const name = Object.values(def.metadata).map((m) => m.description["llb.customname"]).find((n) => n !== undefined) ?? "";
  return op.op.case === "source"
    ? { identifier: op.op.value.identifier, attrs: { ...op.op.value.attrs }, name }
    : { identifier: "", attrs: {}, name: "" };
}

test("git and http named contexts become git and http sources", async () => {
  const g = await sourceOf("https://example.com/org/repo.git#v1.2:sub/dir");
  assert.equal(g.identifier, "git://example.com/org/repo.git#v1.2:sub/dir");
  assert.equal(g.attrs["git.fullurl"], "https://example.com/org/repo.git");
  assert.equal(g.name, "[context base] https://example.com/org/repo.git");
  const ssh = await sourceOf("git@example.com:org/repo.git");
  assert.match(ssh.identifier, /^git:\/\/example\.com/);
  const h = await sourceOf("https://example.com/files/app.tar.gz");
  assert.equal(h.identifier, "https://example.com/files/app.tar.gz");
  assert.equal(h.name, "[context base] https://example.com/files/app.tar.gz");
});

test("unknown named context kinds are refused naming the context", async () => {
  const resolve = createNamedContextResolver({ "context:base": "oci-layout://store@sha256:00" }, createFakeResolver());
  await assert.rejects(resolve("base", AMD64), /base=oci-layout:\/\/store/);
});
