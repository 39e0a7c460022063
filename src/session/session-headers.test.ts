import { test } from "node:test";
import assert from "node:assert/strict";
import { metadataValues, parseSessionHeaders, putMetadataValues, sessionHeaderPairs } from "./session-headers.js";
import { decodeGrpcMessage, encodeGrpcMessage } from "./grpc-status.js";
import { decodeGrpcFrames, encodeGrpcFrame } from "./grpc-frame.js";

test("session headers round-trip, in any case, with joined method values split", () => {
  const pairs = sessionHeaderPairs({ id: "abc", name: "n", sharedKey: "k", methods: ["/a.B/C", "/d.E/F"] });
  assert.deepEqual(pairs.filter(([k]) => k.endsWith("grpc-method")).length, 2);
  assert.deepEqual(parseSessionHeaders(pairs), { id: "abc", name: "n", sharedKey: "k", methods: ["/a.B/C", "/d.E/F"] });
  const docker: Array<[string, string]> = [["X-Docker-Expose-Session-Uuid", "u"], ["X-Docker-Expose-Session-Grpc-Method", "/a.B/C, /d.E/F"]];
  assert.deepEqual(parseSessionHeaders(docker).methods, ["/a.B/C", "/d.E/F"]);
  assert.throws(() => parseSessionHeaders([]), /x-docker-expose-session-uuid/);
});

test("non-ASCII metadata values are URL-encoded with an -encoded flag, like upstream FileSync", () => {
  const md: Record<string, string | string[]> = {};
  putMetadataValues(md, "include-patterns", ["a b/ü*", "plain"]);
  putMetadataValues(md, "exclude-patterns", ["x"]);
  putMetadataValues(md, "followpaths", []);
  assert.deepEqual(md, { "include-patterns": ["a+b%2F%C3%BC%2A", "plain"], "include-patterns-encoded": "1", "exclude-patterns": ["x"] });
  const incoming = new Map(Object.entries(md).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  assert.deepEqual(metadataValues(incoming, "include-patterns"), ["a b/ü*", "plain"]);
  assert.deepEqual(metadataValues(incoming, "exclude-patterns"), ["x"]);
});

test("grpc-message percent-encoding and message framing", async () => {
  const msg = "no access 100% to \"dür\"\n";
  assert.equal(decodeGrpcMessage(encodeGrpcMessage(msg)), msg);
  assert.equal(encodeGrpcMessage("a%b"), "a%25b");
  const frames = Buffer.concat([encodeGrpcFrame(Buffer.from("one")), encodeGrpcFrame(new Uint8Array(0)), encodeGrpcFrame(Buffer.from("three"))]);
  const chunks = [frames.subarray(0, 2), frames.subarray(2, 9), frames.subarray(9)];
  const got: string[] = [];
  for await (const m of decodeGrpcFrames((async function* () { yield* chunks; })())) got.push(Buffer.from(m).toString());
  assert.deepEqual(got, ["one", "", "three"]);
  await assert.rejects(async () => {
    for await (const m of decodeGrpcFrames((async function* () { yield frames.subarray(0, 6); })())) void m;
  }, /ended 6 bytes into a frame/);
});
