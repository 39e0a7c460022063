// Both ends of LLBBridge in one process: the client bridge a gateway frontend runs on, talking HTTP/2 over
// in-memory pipes (as over a container's stdio) to the server handlers, which sit on a fake engine bridge.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, performServerHandshake } from "node:http2";
import { Duplex, PassThrough } from "node:stream";
import { fromBinary } from "@bufbuild/protobuf";
import { DefinitionSchema, OpSchema } from "../../gen/pb/ops_pb.js";
import { createDockerfileFrontend } from "../../frontend/dockerfile/dockerfile-frontend.js";
import { createFakeResolver } from "../../frontend/dockerfile/convert/testing/cf-images.js";
import type { BridgeRef, FrontendBridge, FrontendResult } from "../../frontend/frontend.js";
import { GrpcH2Client } from "../../session/grpc-h2-client.js";
import { serveGrpc } from "../../session/grpc-h2-server.js";
import { grpcStatusOf } from "../../session/grpc-status.js";
import { GantryError, codeOf } from "../../util/errors.js";
import { GrpcFrontendBridge } from "./grpc-frontend-bridge.js";
import { LlbBridgeHandlers, type ReturnOutcome } from "./llb-bridge-handlers.js";
import { llbBridgeRoutes } from "./llb-bridge-routes.js";

/** An engine stand-in: local sources are in-memory file maps named by the local's name. */
function fakeEngine(files: Record<string, Record<string, string>>): FrontendBridge & { warnings: string[] } {
  const warnings: string[] = [];
  const resolve = createFakeResolver();
  return {
    warnings,
    async solve(definition) {
      if (definition.length === 0) return { id: "scratch" };
      const op = fromBinary(OpSchema, fromBinary(DefinitionSchema, definition).def[0]);
      assert.equal(op.op.case, "source");
      return { id: op.op.value.identifier.replace("local://", "") };
    },
    async readFile(ref: BridgeRef, path: string) {
      const text = files[ref.id]?.[path];
      if (text === undefined) throw new GantryError("NotFound", `${path}: no such file or directory`);
      return new TextEncoder().encode(text);
    },
    async readDir() {
      return [{ path: "a", mode: 0o644, uid: 0, gid: 0, size: 1, modTime: 5 }];
    },
    async statFile(_ref, path) {
      return { path, mode: 2 ** 31 + 0o755, uid: 1, gid: 2, size: 0, modTime: 7 };
    },
    resolveImageConfig: (ref) => resolve(ref),
    async inputs() {
      return {};
    },
    warn(w) {
      warnings.push(w.short);
    },
  };
}

/** Serves `engine` and connects a client bridge to it; `close` ends both. */
function connectPair(engine: FrontendBridge) {
  const up = new PassThrough();
  const down = new PassThrough();
  const serverEnd = Duplex.from({ readable: up, writable: down });
  const clientEnd = Duplex.from({ readable: down, writable: up });
  const outcomes: ReturnOutcome[] = [];
  const handlers = new LlbBridgeHandlers({
    bridge: engine, frontend: () => undefined, onReturn: (o) => outcomes.push(o),
    workers: async () => [{ id: "w0", labels: {}, platforms: ["linux/amd64"] }],
  });
  const server = performServerHandshake(serverEnd);
  serveGrpc(server, llbBridgeRoutes(handlers));
  const client = connect("http://localhost", { createConnection: () => clientEnd });
  return {
    bridge: new GrpcFrontendBridge(new GrpcH2Client(client)), outcomes,
    close: () => {
      client.destroy();
      server.destroy();
    },
  };
}

test("the Dockerfile frontend runs over LLBBridge and its Return reaches the server", async (t) => {
  const engine = fakeEngine({ dockerfile: { Dockerfile: "FROM localhost:5000/cf/busybox:1\nCMD [\"sh\"]\n" } });
  const pair = connectPair(engine);
  t.after(pair.close);
  assert.ok((await pair.bridge.ping()).includes("readfile"));
  const result = await createDockerfileFrontend().solve(pair.bridge, { platform: "linux/amd64" }, {});
  await pair.bridge.return({ result });
  assert.equal(pair.outcomes.length, 1);
  const out = pair.outcomes[0] as { result: FrontendResult };
  assert.deepEqual(out.result.definition, result.definition);
  const config = JSON.parse(new TextDecoder().decode(out.result.metadata["containerimage.config"])) as { config: { Cmd: string[] } };
  assert.deepEqual(config.config.Cmd, ["sh"]);
});

test("file calls, stat conversion and error codes cross the connection", async (t) => {
  const pair = connectPair(fakeEngine({ scratch: { "a.txt": "hello" } }));
  t.after(pair.close);
  const ref = await pair.bridge.solve(new Uint8Array());
  // The empty definition is solved by the engine; a ref the server never handed out is NotFound.
  assert.equal(codeOf(await pair.bridge.readFile({ id: "nope" }, "a.txt").catch((e: unknown) => e)), "NotFound");
  assert.ok(ref.id.length > 0);
  assert.equal(new TextDecoder().decode(await pair.bridge.readFile(ref, "a.txt", { offset: 0, length: 5 })), "hello");
  const st = await pair.bridge.statFile(ref, "/d");
  assert.deepEqual(st, { path: "/d", mode: 2 ** 31 + 0o755, uid: 1, gid: 2, size: 0, modTime: 7 });
  assert.deepEqual((await pair.bridge.readDir(ref, "/")).map((e) => e.path), ["a"]);
});

test("a Return with an error becomes the server's outcome with the same code and message", async (t) => {
  const pair = connectPair(fakeEngine({}));
  t.after(pair.close);
  await pair.bridge.return({ error: grpcStatusOf(new GantryError("InvalidArgument", "Dockerfile:3: unknown instruction: FORM")) });
  const out = pair.outcomes[0] as { error: GantryError };
  assert.equal(out.error.code, "InvalidArgument");
  assert.equal(out.error.message, "Dockerfile:3: unknown instruction: FORM");
  assert.equal(codeOf(await pair.bridge.return({ error: { code: 2, message: "again" } }).catch((e: unknown) => e)), "FailedPrecondition");
});
