// A client's session as the daemon uses it: BuildSession's calls become gRPC calls on the HTTP/2
// connection that runs inside the client's Control.Session stream.
import { mkdir } from "node:fs/promises";
import type { Duplex, Writable } from "node:stream";
import { create, toBinary } from "@bufbuild/protobuf";
import { FileSync } from "../gen/moby/filesync/v1/filesync_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { Secrets } from "../gen/moby/buildkit/secrets/v1/secrets_pb.js";
import { BytesMessageSchema, SSH } from "../gen/moby/sshforward/v1/ssh_pb.js";
import { GantryError, codeOf } from "../util/errors.js";
import type { BuildSession, LocalSyncOptions, LocalSyncStats } from "./build-session.js";
import { receiveDiffCopy } from "./diffcopy-receiver.js";
import { FILE_SEND_METHOD, openFileSendWriter, sendDirToClient, type FileSendOptions } from "./file-send-client.js";
import type { GrpcClientStream, GrpcH2Client, OutgoingMetadata } from "./grpc-h2-client.js";
import { callUnary, methodPath } from "./grpc-typed.js";
import { packetConnOver } from "./packet-conn.js";
import { putMetadataValues, type SessionInfo } from "./session-headers.js";
import type { SendStats } from "./diffcopy-sender.js";
import { decodeBytes } from "./ssh-agent-service.js";
import { CREDENTIALS_METHOD, fetchSessionCredentials, memoizedCredentials } from "./auth-service.js";
import type { CredentialSource } from "../registry/docker-config-auth.js";
import { SSH_ID_METADATA, noSshAgentMessage, type SshForwarding } from "./ssh-forwarding.js";
import { relayChunks } from "./ssh-relay.js";

const DIFF_COPY = methodPath(FileSync.method.diffCopy);
const FORWARD_AGENT = methodPath(SSH.method.forwardAgent);

/** A live session. Its calls fail with Unavailable once the connection is gone (see `closed`). */
export class GrpcBuildSession implements BuildSession, SshForwarding {
  readonly id: string;
  readonly name: string;
  readonly sharedKey: string;
  /** Settles when the connection ends, for whatever reason. */
  readonly closed: Promise<void>;
  readonly #client: GrpcH2Client;
  readonly #methods: ReadonlySet<string>;
  readonly #close: () => void;

  constructor(info: SessionInfo, client: GrpcH2Client, conn: { closed: Promise<void>; close: () => void }) {
    this.id = info.id;
    this.name = info.name;
    this.sharedKey = info.sharedKey;
    this.#methods = new Set(info.methods.map((m) => m.toLowerCase()));
    this.#client = client;
    this.closed = conn.closed;
    this.#close = conn.close;
  }

  /** Whether the client advertised `path` (compared case-insensitively, as upstream does). */
  supports(path: string): boolean {
    return this.#methods.has(path.toLowerCase());
  }

  async syncLocal(name: string, dest: string, opts: LocalSyncOptions): Promise<LocalSyncStats> {
    if (!this.supports(DIFF_COPY)) {
      throw new GantryError("Unimplemented", `Cannot read the local directory "${name}": no local sources enabled in session ${this.id}.`);
    }
    const md: OutgoingMetadata = { "dir-name": name };
    putMetadataValues(md, "include-patterns", opts.include);
    putMetadataValues(md, "exclude-patterns", opts.exclude);
    putMetadataValues(md, "followpaths", opts.followPaths);
    // With openDest, dest is there only once the receive opens it (see LocalSyncOptions.openDest).
    if (!opts.openDest) await mkdir(dest, { recursive: true });
    const call = this.#client.stream(DIFF_COPY, { metadata: md, signal: opts.signal });
    try {
      const conn = packetConnOver(call.responseBatches, (m) => call.send(m), () => call.closeSend());
      const stats = await receiveDiffCopy(conn, dest, {
        signal: opts.signal, previousIndex: opts.previousIndex, openDest: opts.openDest,
      });
      return { files: stats.files, bytes: stats.bytes, ...(stats.index ? { index: stats.index } : {}) };
    } catch (err) {
      call.cancel();
      if (codeOf(err) === "NotFound") {
        throw new GantryError("NotFound", `The client has no local directory "${name}": pass it with --local ${name}=<dir>.`, { cause: err });
      }
      throw err;
    }
  }

  async getSecret(id: string, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    try {
      const res = await callUnary(this.#client, Secrets.method.getSecret, { ID: id }, { signal: opts.signal });
      return res.data;
    } catch (err) {
      // A client without the Secrets service has no secrets at all: that is "not found" too.
      const code = codeOf(err);
      if (code === "NotFound" || code === "Unimplemented") {
        throw new GantryError("NotFound", `Secret "${id}" was not found in the client session.`, { cause: err });
      }
      throw err;
    }
  }

  async checkSsh(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.supports(methodPath(SSH.method.checkAgent))) throw new GantryError("NotFound", noSshAgentMessage(id));
    try {
      await callUnary(this.#client, SSH.method.checkAgent, { ID: id }, { signal: opts.signal });
    } catch (err) {
      const code = codeOf(err);
      if (code === "NotFound" || code === "Unimplemented") throw new GantryError("NotFound", noSshAgentMessage(id), { cause: err });
      throw err;
    }
  }

  async forwardSsh(id: string, conn: Duplex, opts: { signal?: AbortSignal } = {}): Promise<void> {
    let c: GrpcClientStream;
    try {
      c = this.#client.stream(FORWARD_AGENT, { metadata: { [SSH_ID_METADATA]: id }, signal: opts.signal });
    } catch (err) {
      conn.destroy();
      throw err;
    }
    try {
      await relayChunks(conn, {
        incoming: decodeBytes(c.responses),
        send: (data) => c.send(toBinary(BytesMessageSchema, create(BytesMessageSchema, { data }))),
        closeSend: () => c.closeSend(),
      }, opts);
    } finally {
      c.cancel();
    }
  }

  /**
   * The client's registry credentials as a source for one build (each host asked once), or undefined
   * when the client does not serve moby.filesync.v1.Auth/Credentials.
   */
  registryCredentials(): CredentialSource | undefined {
    if (!this.supports(CREDENTIALS_METHOD)) return undefined;
    return memoizedCredentials((host, opts) => fetchSessionCredentials(this.#client, host, opts));
  }

  /** A Writable whose bytes go to the client's export target (tar, oci and docker outputs). */
  fileSend(md: Record<string, string>, opts: FileSendOptions = {}): Writable {
    this.#requireFileSend();
    return openFileSendWriter(this.#client, md, opts);
  }

  /** Sends directory `src` to the client's directory target (the local exporter). */
  async sendDir(src: string, opts: FileSendOptions = {}): Promise<SendStats> {
    this.#requireFileSend();
    return sendDirToClient(this.#client, src, opts);
  }

  /** One Health/Check call; throws when the client does not answer in time or is not serving. */
  async checkHealth(timeoutMs: number): Promise<void> {
    const res = await callUnary(this.#client, Health.method.check, {}, { timeoutMs });
    if (res.status !== 1) throw new GantryError("Unavailable", `Session ${this.id} reports it is not serving.`);
  }

  /** Ends the connection (the client's Session call then ends too). */
  close(): void {
    this.#close();
  }

  #requireFileSend(): void {
    if (!this.supports(FILE_SEND_METHOD)) {
      throw new GantryError("Unimplemented", `method ${FILE_SEND_METHOD} not supported by the client`);
    }
  }
}
