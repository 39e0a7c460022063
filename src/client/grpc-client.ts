// The client for gantryd (and buildkitd): Control over gRPC, with this process serving the session (local
// dirs, secrets, export targets) inside the Control.Session stream.
import { connect as netConnect } from "node:net";
import { readFileSync } from "node:fs";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient, type Client as RpcClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BytesMessageSchema, Control, type UsageRecord as PbUsage } from "../gen/moby/buildkit/v1/control_pb.js";
import { DefinitionSchema } from "../gen/pb/ops_pb.js";
import { ClientSession, newSessionId, type ClientSecret } from "../session/client-session.js";
import type { ExportTarget } from "../session/client-file-send.js";
import { AsyncQueue } from "../util/async-queue.js";
import { GantryError } from "../util/errors.js";
import type { Client, ExportEntry, PruneOptions, SecretSource, SolveOptions, SolveResult, UsageRecord, WorkerInfo } from "./client.js";
import { fromRpcError } from "./rpc-error.js";
import { eventsOf } from "./status-events.js";

export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
}

const MAX_MESSAGE = 64 * 1024 * 1024;

function transportFor(addr: string, tls?: TlsOptions): ReturnType<typeof createGrpcTransport> {
  const url = new URL(addr);
  if (url.protocol === "unix:") {
    const path = url.pathname || url.host;
    return createGrpcTransport({ baseUrl: "http://localhost", readMaxBytes: MAX_MESSAGE, writeMaxBytes: MAX_MESSAGE, nodeOptions: { createConnection: () => netConnect(path) } });
  }
  if (url.protocol !== "tcp:") throw new GantryError("InvalidArgument", `--addr ${addr}: use unix://PATH or tcp://HOST:PORT.`);
  const secure = !!(tls?.ca || tls?.cert);
  return createGrpcTransport({
    baseUrl: `${secure ? "https" : "http"}://${url.host}`, readMaxBytes: MAX_MESSAGE, writeMaxBytes: MAX_MESSAGE,
    ...(secure ? { nodeOptions: {
      ...(tls?.ca ? { ca: readFileSync(tls.ca) } : {}), ...(tls?.cert ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls?.key ? { key: readFileSync(tls.key) } : {}), ...(tls?.serverName ? { servername: tls.serverName } : {}),
    } } : {}),
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

  constructor(addr: string, tls?: TlsOptions) {
    this.#rpc = createClient(Control, transportFor(addr, tls));
  }

  async solve(o: SolveOptions): Promise<SolveResult> {
    const { targets, wire } = exportTargets(o.exports ?? []);
    const session = new ClientSession({ locals: o.locals, secrets: clientSecrets(o.secrets), exports: targets, ssh: o.ssh });
    const stop = new AbortController();
    const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
    const attached = this.#attach(session, signal);
    const ref = newSessionId();
    const status = this.#follow(ref, o, signal);
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
      stop.abort();
      await Promise.allSettled([attached, status]);
    }
  }

  /** Runs the Control.Session call: the daemon's bytes feed our session server, its answers go back. */
  async #attach(session: ClientSession, signal: AbortSignal): Promise<void> {
    const inbox = new AsyncQueue<Uint8Array>();
    const outgoing = session.serve(inbox);
    const requests = (async function* () {
      for await (const chunk of outgoing) yield create(BytesMessageSchema, { data: chunk });
    })();
    try {
      for await (const m of this.#rpc.session(requests, { headers: session.headers(), signal })) inbox.push(m.data);
    } catch {
      // The session ends when the build does (or the daemon drops it); errors surface through Solve.
    } finally {
      inbox.end();
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
