// The client for gantryd (and buildkitd): Control over gRPC, with this process serving the session (local
// dirs, secrets, export targets) inside the Control.Session stream. Every call, the session included, goes
// over one HTTP/2 connection through Gantry's own small gRPC client (session/grpc-h2-client.ts), as
// buildctl's calls share one grpc-go connection: a CLI run then pays for neither a second connection nor
// the start-up of a generic RPC stack (Connect, and the fetch machinery its Headers pull in).
import type { ClientHttp2Session } from "node:http2";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Control, type UsageRecord as PbUsage } from "../gen/moby/buildkit/v1/control_pb.js";
import { DefinitionSchema } from "../gen/pb/ops_pb.js";
import { ClientSession, newSessionId, type ClientSecret } from "../session/client-session.js";
import type { ExportTarget } from "../session/client-file-send.js";
import { GrpcH2Client } from "../session/grpc-h2-client.js";
import { callServerStream, callUnary } from "../session/grpc-typed.js";
import { GantryError, messageOf } from "../util/errors.js";
import type { Client, ExportEntry, PruneOptions, SecretSource, SolveOptions, SolveResult, UsageRecord, WorkerInfo } from "./client.js";
import { attachSession, openDaemonH2, parseDaemonAddress, type DaemonAddress, type TlsOptions } from "./session-attach.js";
import { eventsOf } from "./status-events.js";

export type { TlsOptions };

/** How long the status stream may go on after Solve failed (buildctl waits 3 s too). */
const STATUS_GRACE_MS = 3000;

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
  readonly #addrText: string;
  readonly #addr: DaemonAddress;
  readonly #tls: TlsOptions | undefined;
  /** The connection all calls share, opened on first use and again after it broke. */
  #h2: ClientHttp2Session | undefined;
  /** Why the current connection failed (refused, reset), to name it instead of the call it broke. */
  #connError: Error | undefined;

  constructor(addr: string, tls?: TlsOptions) {
    this.#addrText = addr;
    this.#addr = parseDaemonAddress(addr, tls);
    this.#tls = tls;
  }

  async solve(o: SolveOptions): Promise<SolveResult> {
    const { targets, wire } = exportTargets(o.exports ?? []);
    const session = new ClientSession({ locals: o.locals, secrets: clientSecrets(o.secrets), exports: targets, ssh: o.ssh });
    const h2 = this.#connection();
    const rpc = new GrpcH2Client(h2);
    // The session and the status stream outlive a canceled Solve, as buildctl's do: the daemon's last
    // updates (vertices marked canceled) arrive after Solve has returned. All three calls start together.
    const stop = new AbortController();
    const attached = attachSession(h2, session, stop.signal);
    const ref = newSessionId();
    const status = this.#follow(rpc, ref, o, stop.signal);
    try {
      const res = await callUnary(rpc, Control.method.solve, {
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
      throw this.#callError(err);
    } finally {
      session.close();
      const grace = setTimeout(() => stop.abort(), STATUS_GRACE_MS);
      await status;
      clearTimeout(grace);
      stop.abort();
      await attached;
    }
  }

  async #follow(rpc: GrpcH2Client, ref: string, o: SolveOptions, signal: AbortSignal): Promise<void> {
    try {
      for await (const res of callServerStream(rpc, Control.method.status, { Ref: ref }, { signal })) {
        for (const e of eventsOf(res)) o.onProgress?.(e);
      }
    } catch {
      // Progress is best effort: a broken status stream must not fail a build that succeeds.
    }
  }

  async diskUsage(filters: string[] = []): Promise<UsageRecord[]> {
    try {
      return (await callUnary(this.#rpc(), Control.method.diskUsage, { filter: filters })).record.map(usageOf);
    } catch (err) {
      throw this.#callError(err);
    }
  }

  async prune(opts: PruneOptions, onRecord?: (r: UsageRecord) => void): Promise<void> {
    try {
      for await (const r of callServerStream(this.#rpc(), Control.method.prune, {
        filter: opts.filters ?? [], all: opts.all ?? false,
        keepDuration: BigInt(Math.round((opts.keepDuration ?? 0) * 1e6)), reservedSpace: BigInt(Math.round(opts.keepBytes ?? 0)),
      })) onRecord?.(usageOf(r));
    } catch (err) {
      throw this.#callError(err);
    }
  }

  async listWorkers(): Promise<WorkerInfo[]> {
    try {
      const res = await callUnary(this.#rpc(), Control.method.listWorkers, {});
      return res.record.map((w) => ({ id: w.ID, labels: { ...w.Labels }, platforms: w.platforms.map((p) => [p.OS, p.Architecture, p.Variant].filter(Boolean).join("/")) }));
    } catch (err) {
      throw this.#callError(err);
    }
  }

  async info(): Promise<{ version: string; revision: string; package: string }> {
    try {
      const v = (await callUnary(this.#rpc(), Control.method.info, {})).buildkitVersion;
      return { version: v?.version ?? "", revision: v?.revision ?? "", package: v?.package ?? "" };
    } catch (err) {
      throw this.#callError(err);
    }
  }

  /** Closes the connection once its calls have ended; the process can then exit without waiting on it. */
  async close(): Promise<void> {
    const h2 = this.#h2;
    this.#h2 = undefined;
    if (!h2 || h2.destroyed) return;
    await new Promise<void>((resolve) => h2.close(resolve));
  }

  #rpc(): GrpcH2Client {
    return new GrpcH2Client(this.#connection());
  }

  #connection(): ClientHttp2Session {
    if (this.#h2 && !this.#h2.closed && !this.#h2.destroyed) return this.#h2;
    const h2 = openDaemonH2(this.#addr, this.#tls);
    this.#connError = undefined;
    // A refused or broken connection fails the calls on it; the error is kept to name the cause.
    h2.on("error", (err: Error) => {
      if (this.#h2 === h2) this.#connError = err;
    });
    this.#h2 = h2;
    return h2;
  }

  /** A failed call's error; when the connection itself failed, says the daemon could not be reached. */
  #callError(err: unknown): unknown {
    const conn = this.#connError;
    if (conn === undefined || (err instanceof GantryError && err.code !== "Unavailable")) return err;
    return new GantryError("Unavailable", `Cannot reach the daemon at ${this.#addrText}: ${messageOf(conn)}.`, { cause: err });
  }
}
