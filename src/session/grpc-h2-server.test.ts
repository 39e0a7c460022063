import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type ClientHttp2Session, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { serveGrpc, type GrpcHandler } from "./grpc-h2-server.js";
import { decodeGrpcFrames, encodeGrpcFrame } from "./grpc-frame.js";

/** One unary call: the reply messages and the grpc-status trailer, or the stream error. */
async function call(client: ClientHttp2Session, path: string, message: Uint8Array):
  Promise<{ replies: string[]; status: string | undefined }> {
  const req = client.request({ ":method": "POST", ":path": path, "content-type": "application/grpc" });
  let status: string | undefined;
  // A trailers-only answer (an unknown method) carries its status in the response headers.
  req.on("response", (h) => { if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]); });
  req.on("trailers", (t) => { status = String(t["grpc-status"]); });
  req.end(encodeGrpcFrame(message));
  const replies: string[] = [];
  for await (const m of decodeGrpcFrames(req)) replies.push(Buffer.from(m).toString());
  return { replies, status };
}

test("a stream the caller reset before it was served is dropped; the session keeps serving", async () => {
  const rejections: unknown[] = [];
  const onRejection = (err: unknown): void => { rejections.push(err); };
  process.on("unhandledRejection", onRejection);
  const echo: GrpcHandler = async (c) => {
    for await (const m of c.requests) await c.send(m);
  };
  let streams = 0;
  const server = createServer();
  server.on("session", (session) => {
    // Registered first, so the server sees the first stream already destroyed, as when a reset and the
    // headers arrive together.
    session.on("stream", (stream: ServerHttp2Stream) => {
      if (streams++ === 0) stream.destroy();
    });
    serveGrpc(session, new Map([["/t.Echo/Call", echo]]));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  client.on("error", () => undefined);
  try {
    const first = await call(client, "/t.Echo/Call", Buffer.from("first")).catch(() => undefined);
    assert.equal(first?.status, undefined, "the reset call has no answer");
    assert.deepEqual(await call(client, "/t.Echo/Call", Buffer.from("second")), { replies: ["second"], status: "0" });
    assert.deepEqual(await call(client, "/t.Echo/Nope", Buffer.from("x")), { replies: [], status: "12" });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(rejections, []);
  } finally {
    process.off("unhandledRejection", onRejection);
    client.close();
    server.close();
  }
});
