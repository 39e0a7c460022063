#!/usr/bin/env node
// A gateway frontend program: Gantry's Dockerfile frontend, run out of process. As upstream's frontend
// images do, it is the gRPC *client* of an HTTP/2 connection carried by its stdin (bytes from the engine)
// and stdout (bytes to it), calls LLBBridge there, and ends with Return. Its options come from the
// BUILDKIT_FRONTEND_OPT_<i> variables. Logs go to stderr; stdout carries only HTTP/2 frames.
import { connect } from "node:http2";
import { Duplex } from "node:stream";
import { createDockerfileFrontend } from "../../frontend/dockerfile/dockerfile-frontend.js";
import { frontendOptsFromEnv } from "../../frontend/gateway/gateway-env.js";
import { GrpcH2Client } from "../../session/grpc-h2-client.js";
import { grpcStatusOf } from "../../session/grpc-status.js";
import { messageOf } from "../../util/errors.js";
import { GrpcFrontendBridge } from "./grpc-frontend-bridge.js";

/** How long to let the connection close cleanly after Return before exiting anyway. */
const CLOSE_GRACE_MS = 2000;

async function main(): Promise<number> {
  const ac = new AbortController();
  process.once("SIGTERM", () => ac.abort(new Error("The frontend was asked to stop (SIGTERM).")));
  const stdio = Duplex.from({ readable: process.stdin, writable: process.stdout });
  const h2 = connect("http://localhost", { createConnection: () => stdio });
  // The end of the connection surfaces as failed calls; keep the event from crashing the process first.
  h2.on("error", (err: Error) => process.stderr.write(`gateway connection: ${err.message}\n`));
  h2.once("close", () => ac.abort(new Error("The engine closed the LLBBridge connection.")));
  const bridge = new GrpcFrontendBridge(new GrpcH2Client(h2), { signal: ac.signal });
  let code = 0;
  try {
    await bridge.ping();
    const result = await createDockerfileFrontend().solve(bridge, frontendOptsFromEnv(process.env), { signal: ac.signal });
    await bridge.return({ result });
  } catch (err) {
    process.stderr.write(`error: ${messageOf(err)}\n`);
    code = 1;
    // The engine shows this error; if the connection is gone it sees our exit status instead.
    await bridge.return({ error: grpcStatusOf(err) }).catch(() => undefined);
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, CLOSE_GRACE_MS);
    h2.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  return code;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`fatal: ${messageOf(err)}\n`);
  process.exit(2);
});
