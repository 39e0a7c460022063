// `moby.buildkit.v1.Control` over the controller: the same operations the embedded client calls, on gRPC.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  Control, DiskUsageResponseSchema, InfoResponseSchema, ListWorkersResponseSchema, SolveResponseSchema, UsageRecordSchema,
  type SolveRequest, type UsageRecord,
} from "../gen/moby/buildkit/v1/control_pb.js";
import { WorkerRecordSchema } from "../gen/moby/buildkit/v1/types/worker_pb.js";
import { marshalDefinitionMessage } from "../llb/marshal.js";
import type { Controller, ControlSolveRequest } from "../control/controller.js";
import { parsePlatform } from "../oci/platform.js";
import type { GrpcBuildSession } from "../session/grpc-build-session.js";
import { prepareSessionExports } from "./session-exports.js";
import type { ClientBuilds } from "./client-builds.js";
import { GantryError } from "../util/errors.js";
import { StatusHub } from "./status-hub.js";
import { statusResponseOf } from "../control/status-response.js";
import { toGrpcStatus } from "./grpc-status.js";
import { createHistoryHandlers, replayHistoryLogs } from "./history-service.js";

/** Finds the session a client attached for a build (waits briefly: Session and Solve race). */
export interface SessionLookup {
  get(id: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<GrpcBuildSession>;
}

interface ClientUsage {
  id: string; mutable: boolean; inUse: boolean; size: number; parents: string[]; createdAt: Date; lastUsedAt?: Date;
  usageCount: number; description: string; recordType: string; shared: boolean;
}

function usageMessage(r: ClientUsage): UsageRecord {
  return create(UsageRecordSchema, {
    ID: r.id, Mutable: r.mutable, InUse: r.inUse, Size: BigInt(r.size), Parent: r.parents[0] ?? "", Parents: r.parents,
    CreatedAt: timestampFromDate(r.createdAt), ...(r.lastUsedAt ? { LastUsedAt: timestampFromDate(r.lastUsedAt) } : {}),
    UsageCount: BigInt(r.usageCount), Description: r.description, RecordType: r.recordType, Shared: r.shared,
  });
}

/** Exports of a request: the newer repeated field, else the deprecated single exporter. */
function exportsOf(req: SolveRequest): Array<{ type: string; attrs: Record<string, string> }> {
  if (req.Exporters.length) return req.Exporters.map((e) => ({ type: e.Type, attrs: { ...e.Attrs } }));
  return req.ExporterDeprecated ? [{ type: req.ExporterDeprecated, attrs: { ...req.ExporterAttrsDeprecated } }] : [];
}

/** The request's cache options; the deprecated fields mean registry refs, as upstream reads them. */
function cacheOptionsOf(req: SolveRequest): Pick<ControlSolveRequest, "cacheExports" | "cacheImports"> {
  const c = req.Cache;
  if (!c) return {};
  const entry = (e: { Type: string; Attrs: Record<string, string> }): { type: string; attrs: Record<string, string> } => ({ type: e.Type, attrs: { ...e.Attrs } });
  const cacheExports = c.Exports.map(entry);
  if (c.ExportRefDeprecated) cacheExports.push({ type: "registry", attrs: { ...c.ExportAttrsDeprecated, ref: c.ExportRefDeprecated } });
  const cacheImports = c.Imports.map(entry);
  for (const ref of c.ImportRefsDeprecated) cacheImports.push({ type: "registry", attrs: { ref } });
  return { cacheExports, cacheImports };
}

function controlRequest(req: SolveRequest, exports: Array<{ type: string; attrs: Record<string, string> }>, session: GrpcBuildSession, builds: ClientBuilds): ControlSolveRequest {
  const def = req.Definition;
  // Neither LLB nor a frontend name: the client runs the frontend and drives the build over LLBBridge.
  const clientDriven = !req.Frontend && !def;
  return {
    ...(clientDriven ? { frontendImpl: builds.frontendFor(req.Ref) } : {}),
    // The op bytes inside are kept as received, so vertex digests are the client's.
    definition: def ? (def.def.length ? marshalDefinitionMessage(def) : new Uint8Array()) : undefined,
    frontend: req.Frontend || undefined,
    frontendAttrs: { ...req.FrontendAttrs },
    exports,
    session,
    noCache: "no-cache" in req.FrontendAttrs && req.FrontendAttrs["no-cache"] === "",
    entitlements: req.Entitlements,
    ...cacheOptionsOf(req),
    ref: req.Ref,
    internal: req.Internal,
    // The history record shows the exports as the client sent them, not the scratch paths they write to.
    requestedExports: exportsOf(req),
  };
}

export function createControlService(ctl: Controller, sessions: SessionLookup, scratchDir: string, builds: ClientBuilds, hub = new StatusHub()): ServiceImpl<typeof Control> {
  return {
    async solve(req: SolveRequest, ctx: HandlerContext) {
      const feed = hub.open(req.Ref);
      try {
        const session = await sessions.get(req.Session, { timeoutMs: 5000, signal: ctx.signal });
        // A client that goes away cancels its build, whether its Solve call or its session ends first.
        const lost = new AbortController();
        void session.closed.then(() => lost.abort(new GantryError("Canceled", "The client's session ended.")));
        const signal = AbortSignal.any([ctx.signal, lost.signal]);
        const exports = await prepareSessionExports(exportsOf(req), scratchDir, session);
        try {
          const res = await ctl.solve(controlRequest(req, exports.entries, session, builds), { signal, progress: feed.sink });
          await exports.deliver(signal);
          return create(SolveResponseSchema, { ExporterResponse: res.exporterResponse });
        } finally {
          await exports.cleanup();
        }
      } catch (err) {
        throw toGrpcStatus(err);
      } finally {
        feed.end();
      }
    },
    async *status(req, ctx) {
      ctx.responseHeader.set("buildkit-current-timestamp", new Date().toISOString());
      // A build that ended a while ago is replayed from its history record (`buildctl debug logs`).
      await ctl.history.ready();
      if (!hub.has(req.Ref) && ctl.history.record(req.Ref)) {
        yield* replayHistoryLogs(ctl.history, req.Ref, ctx.signal);
        return;
      }
      for await (const batch of hub.subscribe(req.Ref, ctx.signal)) yield statusResponseOf(batch);
    },
    async diskUsage(req) {
      try {
        const records = await ctl.diskUsage(req.filter) as unknown as ClientUsage[];
        return create(DiskUsageResponseSchema, { record: records.map(usageMessage) });
      } catch (err) {
        throw toGrpcStatus(err);
      }
    },
    async *prune(req) {
      const removed: ClientUsage[] = [];
      try {
        await (ctl.prune as unknown as (o: object, cb: (r: ClientUsage) => void) => Promise<void>)({
          all: req.all, filters: req.filter, keepDuration: Number(req.keepDuration) / 1e6, keepBytes: Number(req.reservedSpace),
        }, (r) => removed.push(r));
      } catch (err) {
        throw toGrpcStatus(err);
      }
      for (const r of removed) yield usageMessage(r);
    },
    async listWorkers() {
      const workers = await ctl.listWorkers();
      const version = await ctl.info();
      return create(ListWorkersResponseSchema, {
        record: workers.map((w) => create(WorkerRecordSchema, {
          ID: w.id, Labels: w.labels, BuildkitVersion: version,
          platforms: w.platforms.map((p) => {
            const pl = parsePlatform(p);
            return { OS: pl.os, Architecture: pl.architecture, Variant: pl.variant ?? "" };
          }),
        })),
      });
    },
    async info() {
      const v = await ctl.info();
      return create(InfoResponseSchema, { buildkitVersion: v });
    },
    session() {
      throw toGrpcStatus(new GantryError("Unimplemented", "Sessions are served by the session manager."));
    },
    ...createHistoryHandlers(ctl.history),
  };
}
