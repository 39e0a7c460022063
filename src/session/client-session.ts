// The client's end of a session: the services the daemon calls back (local directories, exports,
// secrets, health), served as an HTTP/2 gRPC server inside the client's Control.Session byte stream.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { performServerHandshake, type ServerHttp2Session } from "node:http2";
import { basename } from "node:path";
import { FileSend, FileSync } from "../gen/moby/filesync/v1/filesync_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { Secrets } from "../gen/moby/buildkit/secrets/v1/secrets_pb.js";
import { GantryError, errnoOf } from "../util/errors.js";
import { createBytePipe } from "./byte-pipe.js";
import { fileSendHandler, type ExportTarget } from "./client-file-send.js";
import { sendDiffCopy } from "./diffcopy-sender.js";
import { localsSharedKey } from "./direct-session.js";
import { WIDE_WINDOW_SETTINGS, widenConnectionWindow } from "./grpc-h2-window.js";
import { serveGrpc, type GrpcHandler, type GrpcServerCall } from "./grpc-h2-server.js";
import { methodPath, unaryRoute } from "./grpc-typed.js";
import { packetConnOver } from "./packet-conn.js";
import { metadataValues, sessionHeaderPairs, type SessionInfo } from "./session-headers.js";
import { sshAgentRoutes, type SshAgents } from "./ssh-agent-service.js";
import { registryAuthRoute } from "./auth-service.js";
import { dockerConfigCredentials, type CredentialSource } from "../registry/docker-config-auth.js";

export type ClientSecret = { file: string } | { env: string } | { data: Uint8Array };

export interface ClientSessionOptions {
  /** Default: a fresh 25-character base-36 id, like upstream's identity.NewID. */
  id?: string;
  /** Default: the base name of the working directory. */
  name?: string;
  /**
   * Default: a key derived from `locals` (like buildx's per-context key; buildctl sends none), so the
   * daemon syncs into its copy of the same directories and only changed files move. Pass "" for none.
   */
  sharedKey?: string;
  /** `--local` directories by name. */
  locals?: Record<string, string>;
  /** `--secret` values by id. */
  secrets?: Record<string, ClientSecret>;
  /** Export targets by exporter index. */
  exports?: ExportTarget[];
  /** `--ssh` agent sockets by id (from `resolveSshAgents`); served as moby.sshforward.v1.SSH. */
  ssh?: SshAgents;
  /**
   * Registry credentials the daemon may ask for (moby.filesync.v1.Auth/Credentials). Default: this
   * process's docker config, as buildctl always offers; `false` offers none.
   */
  registryAuth?: CredentialSource | false;
}

/** What one client offers the daemon. Serve it over one Control.Session call at a time. */
export class ClientSession {
  readonly id: string;
  readonly name: string;
  readonly sharedKey: string;
  readonly #routes: ReadonlyMap<string, GrpcHandler>;
  readonly #active = new Set<ServerHttp2Session>();

  constructor(opts: ClientSessionOptions = {}) {
    this.id = opts.id ?? newSessionId();
    this.name = opts.name ?? basename(process.cwd());
    this.sharedKey = opts.sharedKey ?? (opts.locals && Object.keys(opts.locals).length ? localsSharedKey(opts.locals) : "");
    const routes = new Map<string, GrpcHandler>([
      unaryRoute(Health.method.check, async () => ({ status: HealthCheckResponse_ServingStatus.SERVING })),
    ]);
    if (opts.locals && Object.keys(opts.locals).length) routes.set(methodPath(FileSync.method.diffCopy), fileSyncHandler(opts.locals));
    if (opts.secrets && Object.keys(opts.secrets).length) routes.set(...secretsRoute(opts.secrets));
    if (opts.exports?.length) routes.set(methodPath(FileSend.method.diffCopy), fileSendHandler(opts.exports));
    if (opts.registryAuth !== false) routes.set(...registryAuthRoute(opts.registryAuth ?? dockerConfigCredentials({ followBuildScope: false })));
    if (opts.ssh && Object.keys(opts.ssh).length) for (const [path, h] of sshAgentRoutes(opts.ssh)) routes.set(path, h);
    this.#routes = routes;
  }

  /** The gRPC methods this session serves, as advertised. */
  get methods(): string[] {
    return [...this.#routes.keys()];
  }

  /** The metadata to send on Control.Session: id, name, shared key and one entry per method. */
  headers(): Array<[string, string]> {
    const info: SessionInfo = { id: this.id, name: this.name, sharedKey: this.sharedKey, methods: this.methods };
    return sessionHeaderPairs(info);
  }

  /**
   * Serves the session over one Control.Session call: `incoming` is the data of each BytesMessage the
   * daemon sends; the result is the data to send back. It ends when the daemon ends the connection or
   * `close()` is called.
   */
  serve(incoming: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    const pipe = createBytePipe(incoming);
    const h2 = performServerHandshake(pipe.duplex, { settings: WIDE_WINDOW_SETTINGS });
    widenConnectionWindow(h2);
    h2.on("error", () => undefined); // the connection's end is observed through "close"
    this.#active.add(h2);
    h2.once("close", () => {
      this.#active.delete(h2);
      if (!pipe.duplex.destroyed) pipe.duplex.destroy();
    });
    pipe.duplex.once("end", () => h2.destroy());
    serveGrpc(h2, this.#routes);
    return pipe.outgoing;
  }

  /** Ends every connection this session serves (the end of the build). */
  close(): void {
    for (const h2 of this.#active) h2.close();
  }
}

/** 25 base-36 characters from 17 random bytes, the shape of upstream's session and build ids. */
export function newSessionId(): string {
  let n = BigInt(`0x${randomBytes(17).toString("hex")}`);
  let out = "";
  for (let i = 0; i < 25; i++) {
    out = (n % 36n).toString(36) + out;
    n /= 36n;
  }
  return out;
}

function fileSyncHandler(locals: Record<string, string>): GrpcHandler {
  return async (call: GrpcServerCall) => {
    const dirName = metadataValues(call.metadata, "dir-name")[0] ?? "";
    const dir = Object.hasOwn(locals, dirName) ? locals[dirName] : undefined;
    if (dir === undefined) throw new GantryError("NotFound", `no access allowed to dir "${dirName}"`);
    const conn = packetConnOver(call.requestBatches, (m) => call.send(m), () => undefined, (ms) => call.sendMany(ms));
    await sendDiffCopy(conn, dir, {
      include: metadataValues(call.metadata, "include-patterns"),
      exclude: metadataValues(call.metadata, "exclude-patterns"),
      followPaths: metadataValues(call.metadata, "followpaths"),
      resetOwner: true, // buildctl sends local contexts as owned by 0:0
      signal: call.signal,
    });
  };
}

function secretsRoute(secrets: Record<string, ClientSecret>): [string, GrpcHandler] {
  return unaryRoute(Secrets.method.getSecret, async (req) => {
    const s = Object.hasOwn(secrets, req.ID) ? secrets[req.ID] : undefined;
    if (!s) throw new GantryError("NotFound", `secret ${req.ID} not found`);
    if ("data" in s) return { data: s.data };
    if ("env" in s) {
      const v = process.env[s.env];
      if (v === undefined) throw new GantryError("NotFound", `secret ${req.ID}: environment variable ${s.env} is not set`);
      return { data: Buffer.from(v) };
    }
    try {
      return { data: await readFile(s.file) };
    } catch (err) {
      if (errnoOf(err) === "ENOENT") throw new GantryError("NotFound", `secret ${req.ID}: ${s.file} does not exist`, { cause: err });
      throw err;
    }
  });
}
