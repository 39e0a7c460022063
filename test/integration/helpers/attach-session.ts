// Attaches a hand-made ClientSession to gantryd through Control.Session, as buildctl does, for tests that
// drive the daemon's gRPC API directly rather than through Gantry's client.
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { BytesMessageSchema, type Control } from "../../../src/gen/moby/buildkit/v1/control_pb.js";
import type { ClientSession } from "../../../src/session/client-session.js";
import { AsyncQueue } from "../../../src/util/async-queue.js";

/** Serves `session` over a Session stream until `detach` is called (it then waits for the stream to end). */
export function attachSession(control: Client<typeof Control>, session: ClientSession): { detach(): Promise<void> } {
  const stop = new AbortController();
  const inbox = new AsyncQueue<Uint8Array>();
  const outgoing = session.serve(inbox);
  const requests = (async function* () {
    for await (const chunk of outgoing) yield create(BytesMessageSchema, { data: chunk });
  })();
  const attached = (async () => {
    try {
      for await (const m of control.session(requests, { headers: session.headers(), signal: stop.signal })) inbox.push(m.data);
    } catch {
      // the stream ends with the test's build
    } finally {
      inbox.end();
    }
  })();
  return {
    detach: async () => {
      stop.abort();
      await attached;
    },
  };
}
