import assert from "node:assert/strict";
import { test } from "node:test";
import { isInvalidArgument } from "../util/errors.js";
import { familiarName, normalizedNames, ociRefName } from "./image-names.js";

test("names are normalised like docker's", () => {
  assert.deepEqual(normalizedNames("foo,localhost:5000/a/b:1"), ["docker.io/library/foo:latest", "localhost:5000/a/b:1"]);
  assert.deepEqual(normalizedNames(""), []);
  assert.throws(() => normalizedNames("Bad Name"), (e: unknown) => isInvalidArgument(e) && /Bad Name/.test(String(e)));
});

test("ref names and familiar names follow containerd", () => {
  assert.equal(ociRefName("docker.io/library/foo:latest"), "latest");
  assert.equal(ociRefName("localhost:5000/a/b:1"), "1");
  const dgst = `sha256:${"a".repeat(64)}`;
  assert.equal(ociRefName(`docker.io/library/foo@${dgst}`), `@${dgst}`);
  assert.equal(familiarName("docker.io/library/foo:latest"), "foo:latest");
  assert.equal(familiarName("localhost:5000/a/b:1"), "localhost:5000/a/b:1");
});
