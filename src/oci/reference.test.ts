import { test } from "node:test";
import assert from "node:assert/strict";
import { createReference, parseReference, registryApiHost, withDigest } from "./reference.js";
import { GantryError } from "../util/errors.js";
import type { Digest } from "../util/digest.js";

const D = `sha256:${"ab".repeat(32)}` as Digest;

test("short names are normalised to docker.io/library with :latest", () => {
  const r = parseReference("busybox");
  assert.equal(r.registry, "docker.io");
  assert.equal(r.repository, "library/busybox");
  assert.equal(r.tag, "latest");
  assert.equal(r.digest, undefined);
  assert.equal(r.toString(), "docker.io/library/busybox:latest");
  assert.equal(r.familiar, "busybox:latest");
  assert.equal(r.name, "docker.io/library/busybox");
});

test("user repositories on docker.io keep their namespace", () => {
  const r = parseReference("moby/buildkit:v0.11.6");
  assert.equal(r.toString(), "docker.io/moby/buildkit:v0.11.6");
  assert.equal(r.familiar, "moby/buildkit:v0.11.6");
  assert.equal(parseReference("index.docker.io/library/alpine").toString(), "docker.io/library/alpine:latest");
  assert.equal(parseReference("docker.io/alpine:3").toString(), "docker.io/library/alpine:3");
});

test("hosts with a port, a dot or localhost are registries", () => {
  const r = parseReference("localhost:5000/cf/busybox:1");
  assert.equal(r.registry, "localhost:5000");
  assert.equal(r.repository, "cf/busybox");
  assert.equal(r.tag, "1");
  assert.equal(r.familiar, "localhost:5000/cf/busybox:1");
  assert.equal(parseReference("localhost/x").registry, "localhost");
  assert.equal(parseReference("ghcr.io/a/b/c").repository, "a/b/c");
  assert.equal(parseReference("127.0.0.1:5000/cf/config:1").registry, "127.0.0.1:5000");
  assert.equal(parseReference("[::1]:5000/cf/x").registry, "[::1]:5000");
  // Without a slash, "localhost:5000" is a repository with a tag, as in docker.
  assert.equal(parseReference("localhost:5000").toString(), "docker.io/library/localhost:5000");
});

test("digests, and tag plus digest", () => {
  const r = parseReference(`host.example/repo@${D}`);
  assert.equal(r.digest, D);
  assert.equal(r.tag, undefined);
  assert.equal(r.toString(), `host.example/repo@${D}`);
  const both = parseReference(`busybox:1.36@${D}`);
  assert.equal(both.tag, "1.36");
  assert.equal(both.digest, D);
  assert.equal(both.toString(), `docker.io/library/busybox:1.36@${D}`);
  assert.equal(both.familiar, `busybox:1.36@${D}`);
});

test("withDigest keeps the tag; createReference normalises", () => {
  const r = withDigest(parseReference("busybox"), D);
  assert.equal(r.toString(), `docker.io/library/busybox:latest@${D}`);
  assert.equal(createReference({ registry: "docker.io", repository: "alpine", tag: "3" }).toString(), "docker.io/library/alpine:3");
  assert.equal(registryApiHost("docker.io"), "registry-1.docker.io");
  assert.equal(registryApiHost("localhost:5000"), "localhost:5000");
});

test("references are immutable", () => {
  const r = parseReference("busybox");
  assert.throws(() => { (r as { tag?: string }).tag = "x"; }, TypeError);
});

const invalid: Array<[string, RegExp]> = [
  ["", /it is empty/],
  [" busybox", /whitespace/],
  ["Busybox", /must be lowercase|not a valid registry/],
  ["library/Busybox", /must be lowercase/],
  ["busybox:", /"" is not a valid tag/],
  ["busybox:-bad", /not a valid tag/],
  ["busybox@sha256:abc", /not a valid digest/],
  [`busybox@sha512:${"a".repeat(128)}`, /not supported/],
  ["a//b", /not a valid repository name/],
  ["repo_/x", /not a valid repository name/],
  [":tag", /repository name is missing/],
  ["-host.com/x", /not a valid registry host/],
  ["a".repeat(64), /64-hex-digit/],
  [`x/${"a".repeat(260)}`, /longer than 255/],
];

for (const [input, why] of invalid) {
  test(`rejects ${JSON.stringify(input.slice(0, 40))}`, () => {
    assert.throws(() => parseReference(input), (err: unknown) => {
      assert.ok(err instanceof GantryError);
      assert.equal(err.code, "InvalidArgument");
      assert.ok(err.message.startsWith(`Invalid image reference "${input}": `), err.message);
      assert.match(err.message, why);
      return true;
    });
  });
}

test("credentials pasted into a reference are not echoed", () => {
  assert.throws(() => parseReference("user:s3cret@host.example/repo"), (err: unknown) => {
    assert.ok(err instanceof GantryError);
    assert.ok(!err.message.includes("s3cret"), err.message);
    return true;
  });
});
