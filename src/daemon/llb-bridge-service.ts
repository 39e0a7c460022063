// `moby.buildkit.v1.frontend.LLBBridge` for client-driven builds: each call carries the build's ref in
// `buildkit-controlapi-buildid`; sub-solves, file reads and image resolution go through that build's bridge.
import { randomBytes } from "node:crypto";
import { create, fromBinary } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  LLBBridge, PongResponseSchema, ReadDirResponseSchema, ReadFileResponseSchema, ResolveImageConfigResponseSchema,
  SolveResponseSchema, StatFileResponseSchema, type Result,
} from "../gen/moby/buildkit/v1/frontend/gateway_pb.js";
import { APICapSchema } from "../gen/moby/buildkit/v1/apicaps/caps_pb.js";
import { StatSchema } from "../gen/fsutil/types/stat_pb.js";
import { DefinitionSchema } from "../gen/pb/ops_pb.js";
import type { Controller } from "../control/controller.js";
import type { FileStat } from "../frontend/frontend.js";
import { marshalDefinitionMessage } from "../llb/marshal.js";
import { GantryError } from "../util/errors.js";
import type { ClientBuild, ClientBuilds } from "./client-builds.js";
import { toGrpcStatus } from "./grpc-status.js";

const BUILD_ID_HEADER = "buildkit-controlapi-buildid";

// Upstream's cap ids (frontend/gateway/pb/caps.go, solver/pb/caps.go) for what this daemon serves.
const FRONTEND_CAPS = ["solve.base", "solve.inlinereturn", "resolveimage", "resolveimage.resolvemode", "readfile", "return", "returnmap",
  "readdir", "statfile", "proto.refarray", "reference.output", "frontend.inputs", "gateway.solve.metadata", "gateway.warnings"];
const LLB_CAPS = ["source.image", "source.image.resolvemode", "source.local", "source.local.unique", "source.local.sessionid",
  "source.local.includepatterns", "source.local.followpaths", "source.local.excludepatterns", "source.local.sharedkeyhint",
  "source.local.differ", "source.git", "source.git.keepgitdir", "source.git.fullurl", "source.git.subdir", "source.http",
  "source.http.checksum", "source.http.perm", "soruce.http.uidgid", "exec.meta.base", "exec.meta.network", "exec.meta.proxyenv",
  "exec.meta.security", "exec.meta.setsdefaultpath", "exec.meta.ulimit", "exec.meta.removemountstubs.recursive", "exec.mount.bind",
  "exec.mount.bind.readwrite-nooutput", "exec.mount.cache", "exec.mount.cache.sharing", "exec.mount.selector", "exec.mount.tmpfs",
  "exec.mount.tmpfs.size", "exec.mount.secret", "file.base", "file.rm.wildcard", "file.copy.includeexcludepatterns",
  "file.rm.nofollowsymlink", "constraints", "platform", "meta.ignorecache", "meta.description", "meta.exportcache", "mergeop", "diffop",
  "exporter.image.annotations", "exporter.sourcedateepoch"];

const caps = (ids: string[]) => ids.map((ID) => create(APICapSchema, { ID, Enabled: true }));

function goMode(st: FileStat): number {
  return st.mode;
}

function resultParts(res: Result | undefined): { id?: string; def?: Uint8Array; metadata: Record<string, Uint8Array> } {
  const metadata = { ...(res?.metadata ?? {}) };
  const r = res?.result;
  if (r?.case === "ref") return { id: r.value.id, ...(r.value.def ? { def: marshalDefinitionMessage(r.value.def) } : {}), metadata };
  if (r?.case === "refDeprecated") return { id: r.value, metadata };
  return { metadata };
}

export function createLlbBridgeService(ctl: Controller, builds: ClientBuilds): Partial<ServiceImpl<typeof LLBBridge>> {
  const buildOf = async (ctx: HandlerContext): Promise<ClientBuild> => {
    const ref = ctx.requestHeader.get(BUILD_ID_HEADER);
    if (!ref) throw toGrpcStatus(new GantryError("InvalidArgument", `LLBBridge calls need the ${BUILD_ID_HEADER} header.`));
    try {
      return await builds.get(ref);
    } catch (err) {
      throw toGrpcStatus(err);
    }
  };
  // A result the client names, solved on first use so its files can be read.
  const solvedRef = async (b: ClientBuild, id: string) => {
    const r = b.results.get(id);
    if (!r) throw new GantryError("NotFound", `Unknown result ${id}.`);
    return b.bridge.solve(r.definition);
  };
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toGrpcStatus(err);
    }
  };
  return {
    async ping() {
      const workers = await ctl.listWorkers();
      return create(PongResponseSchema, {
        FrontendAPICaps: caps(FRONTEND_CAPS), LLBCaps: caps(LLB_CAPS),
        Workers: workers.map((w) => ({ ID: w.id, Labels: w.labels })),
      });
    },
    async solve(req, ctx) {
      const b = await buildOf(ctx);
      return guard(async () => {
        let definition: Uint8Array;
        let metadata: Record<string, Uint8Array> = {};
        if (req.Frontend) {
          const fe = ctl.frontend(req.Frontend);
          if (!fe) throw new GantryError("InvalidArgument", `Unknown frontend "${req.Frontend}".`);
          const res = await fe.solve(b.bridge, { ...req.FrontendOpt }, { signal: ctx.signal });
          definition = res.definition;
          metadata = res.metadata;
        } else {
          definition = req.Definition ? marshalDefinitionMessage(req.Definition) : new Uint8Array();
          if (req.Evaluate && definition.length) await b.bridge.solve(definition);
        }
        const id = randomBytes(12).toString("hex");
        b.results.set(id, { definition, metadata });
        const def = definition.length ? fromBinary(DefinitionSchema, definition) : undefined;
        if (!req.allowResultReturn) return create(SolveResponseSchema, { ref: id });
        return create(SolveResponseSchema, {
          result: { result: { case: "ref", value: { id, ...(def ? { def } : {}) } }, metadata },
        });
      });
    },
    async return(req, ctx) {
      const b = await buildOf(ctx);
      if (req.error && req.error.code !== 0) {
        b.fail(new GantryError("InvalidArgument", req.error.message || "The client frontend failed."));
        return {};
      }
      const parts = resultParts(req.result);
      const known = parts.id ? b.results.get(parts.id) : undefined;
      const definition = parts.def ?? known?.definition ?? new Uint8Array();
      b.finish({ definition, metadata: { ...known?.metadata, ...parts.metadata } });
      return {};
    },
    async readFile(req, ctx) {
      const b = await buildOf(ctx);
      return guard(async () => {
        const ref = await solvedRef(b, req.Ref);
        const range = req.Range ? { offset: Number(req.Range.Offset), length: Number(req.Range.Length) } : undefined;
        return create(ReadFileResponseSchema, { Data: await b.bridge.readFile(ref, req.FilePath, range) });
      });
    },
    async readDir(req, ctx) {
      const b = await buildOf(ctx);
      return guard(async () => {
        const entries = await b.bridge.readDir(await solvedRef(b, req.Ref), req.DirPath, req.IncludePattern || undefined);
        return create(ReadDirResponseSchema, { entries: entries.map((e) => create(StatSchema, {
          path: e.path, mode: goMode(e), uid: e.uid, gid: e.gid, size: BigInt(e.size), modTime: BigInt(e.modTime), linkname: e.linkname ?? "",
        })) });
      });
    },
    async statFile(req, ctx) {
      const b = await buildOf(ctx);
      return guard(async () => {
        const e = await b.bridge.statFile(await solvedRef(b, req.Ref), req.Path);
        return create(StatFileResponseSchema, { stat: create(StatSchema, {
          path: e.path, mode: goMode(e), uid: e.uid, gid: e.gid, size: BigInt(e.size), modTime: BigInt(e.modTime), linkname: e.linkname ?? "",
        }) });
      });
    },
    async resolveImageConfig(req, ctx) {
      const b = await buildOf(ctx);
      return guard(async () => {
        const p = req.Platform;
        const res = await b.bridge.resolveImageConfig(req.Ref, {
          ...(p?.OS ? { platform: { os: p.OS, architecture: p.Architecture, ...(p.Variant ? { variant: p.Variant } : {}) } } : {}),
          signal: ctx.signal,
        });
        return create(ResolveImageConfigResponseSchema, { Digest: res.digest, Config: res.config, Ref: res.ref });
      });
    },
    async inputs() {
      return {};
    },
    async warn(req, ctx) {
      const b = await buildOf(ctx);
      b.bridge.warn({ short: Buffer.from(req.short).toString(), detail: req.detail.map((d) => Buffer.from(d).toString()), url: req.url, level: Number(req.level) });
      return {};
    },
    async evaluate(req, ctx) {
      const b = await buildOf(ctx);
      return guard(async () => {
        await solvedRef(b, req.Ref);
        return {};
      });
    },
  };
}

