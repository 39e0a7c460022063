import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { BytesMessageSchema } from "../gen/moby/buildkit/v1/control_pb.js";
import { ClientSession } from "../session/client-session.js";
import { decodeGrpcFrames } from "../session/grpc-frame.js";
import { attachSession, metadataFromPairs, openDaemonH2, parseDaemonAddress, SESSION_METHOD } from "./session-attach.js";

test("metadataFromPairs keeps repeated names as separate values and lower-cases names", () => {
  assert.deepEqual(metadataFromPairs([["X-A", "1"], ["x-b", "2"], ["x-a", "3"], ["x-a", "4"]]), { "x-a": ["1", "3", "4"], "x-b": "2" });
});

test("parseDaemonAddress reads unix and tcp addresses and refuses others", () => {
  assert.deepEqual(parseDaemonAddress("unix:///run/buildkit/buildkitd.sock"), { kind: "unix", path: "/run/buildkit/buildkitd.sock" });
  assert.deepEqual(parseDaemonAddress("tcp://127.0.0.1:1234"), { kind: "tcp", host: "127.0.0.1:1234", secure: false });
  assert.deepEqual(parseDaemonAddress("tcp://h:1", { ca: "/ca.pem" }), { kind: "tcp", host: "h:1", secure: true });
  assert.throws(() => parseDaemonAddress("http://h:1"), /use unix:\/\/PATH or tcp:\/\/HOST:PORT/);
  assert.throws(() => parseDaemonAddress("not a url"), /use unix:\/\/PATH or tcp:\/\/HOST:PORT/);
});

interface Seen {
  path: string;
  raw: string[];
  first: Uint8Array;
}

/**
 * A stand-in for buildkitd's Control.Session endpoint that records the request's raw header fields (as
 * grpc-go sees them: one entry per field) and the first BytesMessage, then ends the call with OK.
 */
async function fakeDaemon(sock: string): Promise<{ seen: Promise<Seen>; close(): Promise<void> }> {
  const server = createServer();
  let resolveSeen: (s: Seen) => void = () => undefined;
  const seen = new Promise<Seen>((r) => (resolveSeen = r));
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    void (async () => {
      for await (const msg of decodeGrpcFrames(stream.iterator({ destroyOnReturn: false }))) {
        resolveSeen({ path: String(headers[":path"]), raw, first: fromBinary(BytesMessageSchema, msg).data });
        break;
      }
      stream.resume(); // drain what the client still sends, so its half-close can complete
      stream.end();
    })();
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return { seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test("attachSession sends each advertised method as its own header field, then relays the session's bytes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-attach-"));
  const sock = join(dir, "d.sock");
  const daemon = await fakeDaemon(sock);
  const session = new ClientSession({ name: "ctx", locals: { context: dir }, secrets: { x: { data: new Uint8Array([1]) } }, registryAuth: false });
  const h2 = openDaemonH2(parseDaemonAddress(`unix://${sock}`));
  try {
    const ac = new AbortController();
    const done = attachSession(h2, session, ac.signal);
    const seen = await daemon.seen;
    assert.equal(seen.path, SESSION_METHOD);
    const fields = (name: string): string[] => seen.raw.filter((_, i) => i % 2 === 1 && seen.raw[i - 1] === name);
    assert.deepEqual(fields("x-docker-expose-session-grpc-method"), session.methods);
    assert.ok(session.methods.length >= 3, "health, FileSync and Secrets are advertised");
    assert.ok(session.methods.includes("/moby.filesync.v1.FileSync/DiffCopy"));
    assert.deepEqual(fields("x-docker-expose-session-uuid"), [session.id]);
    assert.deepEqual(fields("x-docker-expose-session-name"), ["ctx"]);
    // The session's HTTP/2 server speaks first: its SETTINGS frame (type 4) is the first message.
    assert.equal(seen.first[3], 4);
    session.close();
    await done;
  } finally {
    h2.close();
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("attachSession returns at once when its signal is already aborted", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-attach-"));
  const sock = join(dir, "d.sock");
  const daemon = await fakeDaemon(sock);
  const h2 = openDaemonH2(parseDaemonAddress(`unix://${sock}`));
  try {
    await attachSession(h2, new ClientSession({ registryAuth: false }), AbortSignal.abort());
  } finally {
    h2.close();
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  }
});
