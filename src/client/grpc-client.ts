// The client for gantryd (and buildkitd): Control over gRPC, with this process serving the session (local
// dirs, secrets, export targets) inside the Control.Session stream.
import { connect as netConnect } from "node:net";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient, type Client as RpcClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Control, type UsageRecord as PbUsage } from "../gen/moby/buildkit/v1/control_pb.js";
import { DefinitionSchema } from "../gen/pb/ops_pb.js";
import { ClientSession, newSessionId, type ClientSecret } from "../session/client-session.js";
import type { ExportTarget } from "../session/client-file-send.js";
import type { Client, ExportEntry, PruneOptions, SecretSource, SolveOptions, SolveResult, UsageRecord, WorkerInfo } from "./client.js";
import { fromRpcError } from "./rpc-error.js";
import { attachSession, openDaemonH2, parseDaemonAddress, tlsConnectOptions, type DaemonAddress, type TlsOptions } from "./session-attach.js";
import { eventsOf } from "./status-events.js";

export type { TlsOptions };

const MAX_MESSAGE = 64 * 1024 * 1024;
/** How long the status stream may go on after Solve failed (buildctl waits 3 s too). */
const STATUS_GRACE_MS = 3000;

function transportFor(addr: DaemonAddress, tls?: TlsOptions): ReturnType<typeof createGrpcTransport> {
  const limits = { readMaxBytes: MAX_MESSAGE, writeMaxBytes: MAX_MESSAGE };
  if (addr.kind === "unix") {
    return createGrpcTransport({ baseUrl: "http://localhost", ...limits, nodeOptions: { createConnection: () => netConnect(addr.path) } });
  }
  return createGrpcTransport({
    baseUrl: `${addr.secure ? "https" : "http"}://${addr.host}`, ...limits,
    ...(addr.secure ? { nodeOptions: tlsConnectOptions(tls) } : {}),
  });
}

function exportTargets(exports: readonly ExportEntry[]): { targets: ExportTarget[]; wire: ExportEntry[] } {
  const targets: ExportTarget[] = [];
  const wire = exports.map((e) => {
    const { dest, ...attrs } = e.attrs;
    if (e.type === "local") targets.push({ type: "dir", path: dest ?? "." });
    else if ((e.type === "tar" || e.type === "oci" || e.type === "docker") && attrs.tar !== "false") {
      targets.push(!dest || dest === "-" ? { type: "stdout" } : { type: "file", path: dest });
    } else targets.push({ type: "stdout" });
    return { type: e.type, attrs };
  });
  return { targets, wire };
}

function clientSecrets(secrets: Record<string, SecretSource> | undefined): Record<string, ClientSecret> {
  return Object.fromEntries(Object.entries(secrets ?? {}).map(([k, v]) => [k, v]));
}

function usageOf(r: PbUsage): UsageRecord {
  return {
    id: r.ID, mutable: r.Mutable, inUse: r.InUse, size: Number(r.Size), parents: r.Parents.length ? r.Parents : r.Parent ? [r.Parent] : [],
    createdAt: r.CreatedAt ? timestampDate(r.CreatedAt) : new Date(0), ...(r.LastUsedAt ? { lastUsedAt: timestampDate(r.LastUsedAt) } : {}),
    usageCount: Number(r.UsageCount), description: r.Description, recordType: r.RecordType, shared: r.Shared,
  };
}

export class GrpcClient implements Client {
  readonly #rpc: RpcClient<typeof Control>;
  readonly #addr: DaemonAddress;
  readonly #tls: TlsOptions | undefined;

  constructor(addr: string, tls?: TlsOptions) {
    this.#addr = parseDaemonAddress(addr, tls);
    this.#tls = tls;
    this.#rpc = createClient(Control, transportFor(this.#addr, tls));
  }

  async solve(o: SolveOptions): Promise<SolveResult> {
    const { targets, wire } = exportTargets(o.exports ?? []);
    const session = new ClientSession({ locals: o.locals, secrets: clientSecrets(o.secrets), exports: targets, ssh: o.ssh });
    // The session and the status stream outlive a canceled Solve, as buildctl's do: the daemon's last
    // updates (vertices marked canceled) arrive after Solve has returned.
    const stop = new AbortController();
    const attached = this.#attach(session, stop.signal);
    const ref = newSessionId();
    const status = this.#follow(ref, o, stop.signal);
    try {
      const res = await this.#rpc.solve({
        Ref: ref,
        Session: session.id,
        ...(o.definition ? { Definition: o.definition.length ? fromBinary(DefinitionSchema, o.definition) : create(DefinitionSchema) } : {}),
        Frontend: o.frontend ?? "",
        FrontendAttrs: { ...o.frontendAttrs, ...(o.noCache ? { "no-cache": "" } : {}) },
        Exporters: wire.map((e) => ({ Type: e.type, Attrs: e.attrs })),
        ExporterDeprecated: wire[0]?.type ?? "",
        ExporterAttrsDeprecated: wire[0]?.attrs ?? {},
        Cache: {
          Exports: (o.cacheExports ?? []).map((e) => ({ Type: e.type, Attrs: e.attrs })),
          Imports: (o.cacheImports ?? []).map((e) => ({ Type: e.type, Attrs: e.attrs })),
        },
      }, { signal: o.signal });
      await status;
      return { exporterResponse: { ...res.ExporterResponse } };
    } catch (err) {
      throw fromRpcError(err);
    } finally {
      session.close();
      const grace = setTimeout(() => stop.abort(), STATUS_GRACE_MS);
      await status;
      clearTimeout(grace);
      stop.abort();
      await attached;
    }
  }

  /**
   * Runs the Control.Session call on a connection of its own, with Gantry's HTTP/2 client: its repeated
   * method headers must reach the daemon as separate fields (see session-attach.ts).
   */
  async #attach(session: ClientSession, signal: AbortSignal): Promise<void> {
    const h2 = openDaemonH2(this.#addr, this.#tls);
    h2.on("error", () => undefined); // a refused connection fails Solve, which reports it
    try {
      await attachSession(h2, session, signal);
    } finally {
      h2.close();
    }
  }

  async #follow(ref: string, o: SolveOptions, signal: AbortSignal): Promise<void> {
    try {
      for await (const res of this.#rpc.status({ Ref: ref }, { signal })) for (const e of eventsOf(res)) o.onProgress?.(e);
    } catch {
      // Progress is best effort: a broken status stream must not fail a build that succeeds.
    }
  }

  async diskUsage(filters: string[] = []): Promise<UsageRecord[]> {
    try {
      return (await this.#rpc.diskUsage({ filter: filters })).record.map(usageOf);
    } catch (err) {
      throw fromRpcError(err);
    }
  }

  async prune(opts: PruneOptions, onRecord?: (r: UsageRecord) => void): Promise<void> {
    try {
      for await (const r of this.#rpc.prune({
        filter: opts.filters ?? [], all: opts.all ?? false,
        keepDuration: BigInt(Math.round((opts.keepDuration ?? 0) * 1e6)), reservedSpace: BigInt(Math.round(opts.keepBytes ?? 0)),
      })) onRecord?.(usageOf(r));
    } catch (err) {
      throw fromRpcError(err);
    }
  }

  async listWorkers(): Promise<WorkerInfo[]> {
    try {
      const res = await this.#rpc.listWorkers({});
      return res.record.map((w) => ({ id: w.ID, labels: { ...w.Labels }, platforms: w.platforms.map((p) => [p.OS, p.Architecture, p.Variant].filter(Boolean).join("/")) }));
    } catch (err) {
      throw fromRpcError(err);
    }
  }

  async info(): Promise<{ version: string; revision: string; package: string }> {
    try {
      const v = (await this.#rpc.info({})).buildkitVersion;
      return { version: v?.version ?? "", revision: v?.revision ?? "", package: v?.package ?? "" };
    } catch (err) {
      throw fromRpcError(err);
    }
  }

  async close(): Promise<void> {}
}
