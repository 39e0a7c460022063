// The client's `moby.sshforward.v1.SSH` service (what a ClientSession serves for `--ssh`), and the same
// forwarding without gRPC for the embedded mode, where the agent socket is on this host.
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import type { Duplex } from "node:stream";
import { BytesMessageSchema, SSH } from "../gen/moby/sshforward/v1/ssh_pb.js";
import { GantryError } from "../util/errors.js";
import type { BuildSession } from "./build-session.js";
import type { GrpcHandler, GrpcServerCall } from "./grpc-h2-server.js";
import { methodPath, unaryRoute } from "./grpc-typed.js";
import { metadataValues } from "./session-headers.js";
import { dialSshAgent } from "./ssh-agent-sockets.js";
import { DEFAULT_SSH_ID, SSH_ID_METADATA, noSshAgentMessage, type SshForwarding } from "./ssh-forwarding.js";
import { serveReadOnlyAgent, writeAll } from "./ssh-agent-filter.js";

/** Agent sockets by id, as `resolveSshAgents` returns them. */
export type SshAgents = Readonly<Record<string, string>>;

function socketOf(agents: SshAgents, id: string): string {
  const path = Object.hasOwn(agents, id) ? agents[id] : undefined;
  // Upstream's wording, so a Go daemon's logs read the same.
  if (path === undefined) throw new GantryError("NotFound", `unset ssh forward key ${id}`);
  return path;
}

/** The routes of the SSH service over `agents` (CheckAgent, ForwardAgent). */
export function sshAgentRoutes(agents: SshAgents): Array<[string, GrpcHandler]> {
  return [
    unaryRoute(SSH.method.checkAgent, async (req) => {
      socketOf(agents, req.ID || DEFAULT_SSH_ID);
      return {};
    }),
    [methodPath(SSH.method.forwardAgent), (call) => forwardAgentCall(agents, call)],
  ];
}

async function forwardAgentCall(agents: SshAgents, call: GrpcServerCall): Promise<void> {
  const id = metadataValues(call.metadata, SSH_ID_METADATA)[0] || DEFAULT_SSH_ID;
  const agent = await dialSshAgent(socketOf(agents, id), { signal: call.signal });
  // The gRPC server half-closes by ending the call, which happens when this handler returns.
  await serveReadOnlyAgent(decodeBytes(call.requests), agent,
    (data) => call.send(toBinary(BytesMessageSchema, create(BytesMessageSchema, { data }))), { signal: call.signal });
}

/** Decodes a stream of encoded BytesMessages into their data. */
export async function* decodeBytes(messages: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const m of messages) yield fromBinary(BytesMessageSchema, m).data;
}

/** Forwarding straight to local agent sockets (the embedded mode). */
export function createLocalSshForwarding(agents: SshAgents): SshForwarding {
  return {
    async checkSsh(id: string): Promise<void> {
      if (!Object.hasOwn(agents, id)) throw new GantryError("NotFound", noSshAgentMessage(id));
    },
    async forwardSsh(id: string, conn: Duplex, opts: { signal?: AbortSignal } = {}): Promise<void> {
      if (!Object.hasOwn(agents, id)) throw new GantryError("NotFound", noSshAgentMessage(id));
      let agent: Duplex;
      try {
        agent = await dialSshAgent(agents[id], opts);
      } catch (err) {
        conn.destroy();
        throw err;
      }
      // The build's connection goes when its requests end, or at once on abort (its reads would wait).
      const onAbort = (): void => void conn.destroy();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      conn.on("error", () => undefined); // surfaces through the reads
      try {
        await serveReadOnlyAgent(conn.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>, agent,
          (data) => writeAll(conn, data, "answer the build's SSH agent request"), opts);
        conn.end();
      } catch (err) {
        conn.destroy();
        throw err;
      } finally {
        opts.signal?.removeEventListener("abort", onAbort);
      }
    },
  };
}

/** `session` plus forwarding of `agents` (the embedded client's session for `--ssh`). */
export function withSshAgents(session: BuildSession, agents: SshAgents): BuildSession & SshForwarding {
  const fwd = createLocalSshForwarding(agents);
  return {
    id: session.id,
    sharedKey: session.sharedKey,
    syncLocal: (name, dest, opts) => session.syncLocal(name, dest, opts),
    getSecret: (id, opts) => session.getSecret(id, opts),
    checkSsh: (id, opts) => fwd.checkSsh(id, opts),
    forwardSsh: (id, conn, opts) => fwd.forwardSsh(id, conn, opts),
  };
}
