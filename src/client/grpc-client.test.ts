import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Http2Session } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Control } from "../gen/moby/buildkit/v1/control_pb.js";
import { GantryError } from "../util/errors.js";
import type { ProgressEvent } from "../util/progress-event.js";
import { GrpcClient } from "./grpc-client.js";

const RUN = "sha256:3cb544fae74d41ec4b432bbedcded299a91532e5113db454b2f95af4c726c5b2";

/** A promise the test opens when something it waits for has happened. */
interface Latch {
  opened: Promise<void>;
  open(): void;
}

function latch(): Latch {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

/**
 * A daemon that behaves as buildkitd v0.11.6 does when the client cancels: Solve fails with Canceled, and
 * only afterwards does Status send the running vertex completed with "context canceled".
 */
function cancelingDaemon(seen: { sessionIds: string[] }, reached: { solve: Latch; session: Latch }): (router: ConnectRouter) => void {
  let solveEnded: () => void = () => undefined;
  const ended = new Promise<void>((r) => (solveEnded = r));
  return (router) => {
    router.rpc(Control.method.solve, async (_req, ctx) => {
      reached.solve.open();
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      solveEnded();
      throw new ConnectError("context canceled", Code.Canceled);
    });
    router.rpc(Control.method.status, async function* () {
      const started = timestampFromDate(new Date());
      yield { vertexes: [{ digest: RUN, name: "/bin/sh -c sleep 30", started }] };
      await ended;
      await new Promise((r) => setTimeout(r, 100));
      yield { vertexes: [{ digest: RUN, name: "/bin/sh -c sleep 30", started, completed: timestampFromDate(new Date()), error: "context canceled" }] };
    });
    router.rpc(Control.method.session, async function* (requests, ctx) {
      seen.sessionIds.push(ctx.requestHeader.get("x-docker-expose-session-uuid") ?? "");
      reached.session.open();
      for await (const m of requests) void m;
    });
  };
}

test("a canceled solve still reports the daemon's last status updates, as buildctl does", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-grpc-client-"));
  const sock = join(dir, "d.sock");
  const seen = { sessionIds: [] as string[] };
  const reached = { solve: latch(), session: latch(), status: latch() };
  const server = createServer(connectNodeAdapter({ routes: cancelingDaemon(seen, reached) }));
  const conns = new Set<Http2Session>();
  server.on("session", (s: Http2Session) => conns.add(s));
  await new Promise<void>((r) => server.listen(sock, r));
  const client = new GrpcClient(`unix://${sock}`);
  const events: ProgressEvent[] = [];
  const ac = new AbortController();
  try {
    const solving = client.solve({ definition: new Uint8Array(), signal: ac.signal, onProgress: (e) => {
      events.push(e);
      reached.status.open();
    } });
    // Cancel once the daemon runs the solve, holds the session and has sent a status: a build in progress.
    await Promise.race([Promise.all([reached.solve.opened, reached.session.opened, reached.status.opened]), solving.catch(() => undefined)]);
    ac.abort(new GantryError("Canceled", "interrupted"));
    await assert.rejects(solving, (err: unknown) => err instanceof GantryError && err.code === "Canceled");
    const last = events.at(-1);
    assert.equal(last?.type, "vertex");
    assert.equal(last?.type === "vertex" ? last.error : undefined, "context canceled");
    assert.equal(seen.sessionIds.length, 1, "the session was attached over its own call");
  } finally {
    await client.close();
    for (const c of conns) c.destroy(); // the client's pooled connection would keep the server open
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
