import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAuthChallenges } from "./auth-challenge.js";

test("parses Docker Hub's bearer challenge", () => {
  const h = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"';
  assert.deepEqual(parseAuthChallenges(h), [{
    scheme: "bearer",
    params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull" },
  }]);
});

test("parses basic, unquoted values, spaces and case", () => {
  assert.deepEqual(parseAuthChallenges('Basic realm="Registry Realm"'), [{ scheme: "basic", params: { realm: "Registry Realm" } }]);
  assert.deepEqual(parseAuthChallenges("BEARER Realm = http://x/token , Service=reg"),
    [{ scheme: "bearer", params: { realm: "http://x/token", service: "reg" } }]);
});

test("parses several challenges in one header", () => {
  const h = 'Basic realm="r1", Bearer realm="https://a/t",scope="repository:x:pull,push",error="insufficient_scope"';
  assert.deepEqual(parseAuthChallenges(h), [
    { scheme: "basic", params: { realm: "r1" } },
    { scheme: "bearer", params: { realm: "https://a/t", scope: "repository:x:pull,push", error: "insufficient_scope" } },
  ]);
});

test("handles escapes inside quotes and a bare scheme", () => {
  assert.deepEqual(parseAuthChallenges('Bearer realm="a\\"b,c"'), [{ scheme: "bearer", params: { realm: 'a"b,c' } }]);
  assert.deepEqual(parseAuthChallenges("Negotiate"), [{ scheme: "negotiate", params: {} }]);
  assert.deepEqual(parseAuthChallenges(""), []);
});

test("skips malformed pieces without throwing", () => {
  assert.deepEqual(parseAuthChallenges('="x", Bearer realm="ok'), [{ scheme: "bearer", params: { realm: "ok" } }]);
  assert.deepEqual(parseAuthChallenges("realm=orphan"), []);
});
