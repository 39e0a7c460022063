// The controller: one engine (worker, solver, exporters, frontends) behind the Control API's operations.
// The embedded client and gantryd both drive it.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { BuildSession } from "../session/build-session.js";
import { loadDefinition } from "../llb/definition.js";
import type { Frontend, FrontendResult } from "../frontend/frontend.js";
import { createDockerfileFrontend } from "../frontend/dockerfile/dockerfile-frontend.js";
import { REQUEST_ID_KEY } from "../frontend/dockerfile/subrequests/keys.js";
import { EngineBridge } from "./frontend-bridge.js";
import type { GatewayFrontendOptions } from "./gateway/gateway-frontend.js";
import { llbGraph, type LlbPayload } from "../ops/llb-graph.js";
import { createLlbOpResolver } from "../ops/op-resolver.js";
import { WorkerRef } from "../ops/worker-ref.js";
import { hostPlatform, formatPlatform, parsePlatform } from "../oci/platform.js";
import { createSolver, type Solver } from "../solver/solver.js";
import { GantryError } from "../util/errors.js";
import type { ProgressSink } from "../util/progress-event.js";
import { createExporters, resolveExports, runExports, type PlatformResult } from "./exporters.js";
import { defaultRoot, lockStateDir, resetTransientState } from "./state-dir.js";
import { openWorker, parallelismOf, type Worker, type WorkerResults } from "./worker.js";
import type { GcOptions } from "./cache-admin.js";
import type { PruneOptions, UsageInfo } from "../cache/cache-pruner.js";
import type { Exporter } from "../exporter/exporter.js";
import { LayerBlobCache } from "../exporter/layer-blobs.js";
import { parseCacheExport, type CacheEntry, type CacheExportSpec } from "../cache/remote/cache-attrs.js";
import type { SolvedOutput } from "../solver/types.js";
import { ImportingResults, openCacheImports, resolveCacheImports } from "./remote-cache-imports.js";
import { exportRemoteCaches, withInlineCache, type CacheExportRun } from "./remote-cache-exports.js";
import { openBuildHistory, type BuildHistory, type HistoryRetention } from "./build-history.js";

export interface ControlSolveRequest {
  definition?: Uint8Array;
  frontend?: string;
  frontendAttrs: Record<string, string>;
  exports: Array<{ type: string; attrs: Record<string, string> }>;
  session: BuildSession;
  noCache: boolean;
  entitlements?: string[];
  /** A frontend object to run instead of one by name (gantryd's client-driven builds). */
  frontendImpl?: Frontend;
  /** `--export-cache` entries (types local, registry, inline). */
  cacheExports?: CacheEntry[];
  /** `--import-cache` entries (types local, registry). */
  cacheImports?: CacheEntry[];
  /** The build's id (upstream's SolveRequest.Ref), which names its history record; random when absent. */
  ref?: string;
  /** Upstream's `Internal`: a request made for the client's own purposes, kept out of the build history. */
  internal?: boolean;
  /** The exports as the client asked for them, for the history record (default `exports`). */
  requestedExports?: Array<{ type: string; attrs: Record<string, string> }>;
}

export interface ControllerOptions {
  root?: string;
  insecureRegistries?: string[];
  maxParallelism?: number;
  /** Automatic GC after builds (default on, upstream's policy over 10% of the disk). */
  gc?: GcOptions;
  /** Build history retention (buildkitd.toml `[history]`); upstream's 48 h and 50 records by default. */
  history?: Partial<HistoryRetention>;
}

export const VERSION = { package: "github.com/gantry-build/gantry", version: "v0.1.0", revision: "dev" };

export class Controller {
  readonly #worker: Worker;
  readonly #solver: Solver<LlbPayload, WorkerRef>;
  readonly #results: WorkerResults;
  readonly #importing: ImportingResults;
  readonly #layerBlobs: LayerBlobCache;
  readonly #exporters: Map<string, Exporter>;
  readonly #unlock: () => Promise<void>;
  readonly #history: BuildHistory;
  readonly #frontends = new Map<string, Frontend>([["dockerfile.v0", createDockerfileFrontend()]]);

  constructor(parts: { worker: Worker; parallelism: number; unlock: () => Promise<void>; history: BuildHistory }) {
    this.#worker = parts.worker;
    this.#unlock = parts.unlock;
    this.#history = parts.history;
    this.#results = parts.worker.results;
    this.#importing = new ImportingResults(this.#results, parts.worker.deps);
    this.#layerBlobs = new LayerBlobCache(parts.worker.deps.content, { memoDir: parts.worker.layerMemoDir });
    this.#solver = createSolver({ resolveOp: createLlbOpResolver(parts.worker.deps), results: this.#importing, parallelism: parts.parallelism });
    this.#exporters = createExporters(parts.worker.deps.content, this.#layerBlobs, parts.worker.deps.registry);
    this.#frontends.set("gateway.v0", lazyGatewayFrontend({ deps: parts.worker.deps, frontend: (n) => this.#frontends.get(n), workers: () => this.listWorkers() }));
  }

  /** Runs one build; unless `req.internal`, it gets a build history record (see `history`). */
  async solve(req: ControlSolveRequest, opts: { signal?: AbortSignal; progress: ProgressSink }): Promise<{ exporterResponse: Record<string, string> }> {
    const ended = this.#worker.cache.buildStarted();
    const recording = req.internal ? undefined : this.#history.start({
      ref: req.ref || randomBytes(13).toString("hex"), frontend: req.frontend ?? "", frontendAttrs: req.frontendAttrs,
      exporters: req.requestedExports ?? req.exports,
    });
    const progress: ProgressSink = recording ? (e) => {
      recording.sink(e);
      opts.progress(e);
    } : opts.progress;
    try {
      const res = await this.#solve(req, { signal: opts.signal, progress });
      await recording?.finish({ exporterResponse: res.exporterResponse });
      return res;
    } catch (err) {
      await recording?.finish({ error: err });
      throw err;
    } finally {
      ended();
    }
  }

  /** Records of past and running builds (Control.ListenBuildHistory, UpdateBuildHistory). */
  get history(): BuildHistory {
    return this.#history;
  }

  async #solve(req: ControlSolveRequest, opts: { signal?: AbortSignal; progress: ProgressSink }): Promise<{ exporterResponse: Record<string, string> }> {
    const exports = await resolveExports(this.#exporters, withBuildArgDefaults(req.exports, req.frontendAttrs));
    const cacheExports = (req.cacheExports ?? []).map(parseCacheExport);
    const cacheImports = resolveCacheImports(req.cacheImports ?? []);
    const platform = hostPlatform();
    const build = { session: req.session, platform, entitlements: new Set(req.entitlements ?? []) };
    const imported = await openCacheImports(cacheImports, this.#worker.deps, { progress: opts.progress, sessionId: req.session.id, signal: opts.signal });
    const stopImporting = this.#importing.use(imported);
    const bridge = new EngineBridge({ solver: this.#solver, deps: this.#worker.deps, build, progress: opts.progress, noCache: req.noCache, signal: opts.signal, frontends: (n) => this.#frontends.get(n) });
    const solved: SolvedOutput<WorkerRef>[] = [];
    try {
      const { definition, imageConfig, refs, metadata } = await this.#definitionOf(req, bridge, opts.signal);
      // A subrequest (lint, outline, targets…) has nothing to build or export: its answer is the response.
      if (isSubrequest(req)) return { exporterResponse: subrequestResponse(metadata) };
      // Cache export reads what the solve resolved: keep a reference to each result until it is done.
      const onSolved = cacheExports.length === 0 ? undefined
        : (outs: SolvedOutput<WorkerRef>[]): void => void solved.push(...outs.map((o) => ({ ...o, result: o.result.clone() })));
      // An empty definition (what scratch() marshals to) builds the empty filesystem, as upstream's does.
      const solveDefinition = (def: Uint8Array): Promise<WorkerRef> => (def.length === 0
        ? Promise.resolve(WorkerRef.scratch())
        : this.#solver.solve(llbGraph(loadDefinition(def), build, { noCache: req.noCache }), { signal: opts.signal, progress: opts.progress, onSolved }));
      const platforms = refs && Object.keys(refs).length > 1 ? await solvePlatforms(refs, solveDefinition) : undefined;
      const result = platforms ? platforms[0].result : await solveDefinition(definition);
      try {
        return {
          exporterResponse: await this.#export(req, {
            exports, cacheExports, result, platforms, solved, imageConfig, platform, progress: opts.progress, signal: opts.signal,
          }),
        };
      } finally {
        await Promise.allSettled((platforms ?? [{ result }]).map((p) => p.result.release()));
      }
    } finally {
      stopImporting();
      await Promise.allSettled(solved.map((o) => o.result.release()));
      await bridge.release();
    }
  }

  /** Runs the exporters (with the inline cache in the image config when asked), then the cache exports. */
  async #export(req: ControlSolveRequest, x: {
    exports: Awaited<ReturnType<typeof resolveExports>>; cacheExports: CacheExportSpec[]; result: WorkerRef;
    platforms?: PlatformResult[]; solved: SolvedOutput<WorkerRef>[]; imageConfig?: Uint8Array; platform: ReturnType<typeof hostPlatform>;
    progress: ProgressSink; signal?: AbortSignal;
  }): Promise<Record<string, string>> {
    const run: CacheExportRun = {
      solved: x.solved, final: x.result, refs: this.#worker.deps.refs, layerBlobs: this.#layerBlobs, content: this.#worker.deps.content,
      registry: this.#worker.deps.registry, progress: x.progress, sessionId: req.session.id, signal: x.signal,
    };
    // A multi-platform image gets no inline cache: the cache records follow the first platform's result only.
    const inline = x.cacheExports.some((c) => c.type === "inline") && !x.platforms;
    const imageConfig = inline ? await withInlineCache(run, x.imageConfig, x.platform) : x.imageConfig;
    const response = await runExports(x.exports, {
      result: x.result, refs: this.#worker.deps.refs, platform: x.platforms?.[0].platform ?? x.platform, imageConfig, platforms: x.platforms,
      sessionId: req.session.id, progress: x.progress, signal: x.signal,
    });
    return { ...response, ...(await exportRemoteCaches(x.cacheExports, run)) };
  }

  async #definitionOf(req: ControlSolveRequest, bridge: EngineBridge, signal?: AbortSignal): Promise<{
    definition: Uint8Array; imageConfig?: Uint8Array; refs?: FrontendResult["refs"]; metadata?: FrontendResult["metadata"];
  }> {
    if (req.definition) return { definition: req.definition };
    if (!req.frontend && !req.frontendImpl) throw new GantryError("InvalidArgument", "Nothing to build: give an LLB definition on stdin or a --frontend.");
    const frontend = req.frontendImpl ?? this.#frontends.get(req.frontend ?? "");
    if (!frontend) throw new GantryError("InvalidArgument", `Unknown frontend "${req.frontend}": use ${[...this.#frontends.keys()].join(", ")}.`);
    const res = await frontend.solve(bridge, req.frontendAttrs, { signal });
    return { definition: res.definition, imageConfig: res.metadata["containerimage.config"], refs: res.refs, metadata: res.metadata };
  }

  /** Cache records matching containerd-syntax `filters` (`type==exec.cachemount`, `id==…`, `description~=…`). */
  /** A built-in frontend by name (`dockerfile.v0`), for bridges that run one on a client's behalf. */
  frontend(name: string): Frontend | undefined {
    return this.#frontends.get(name);
  }

  async diskUsage(filters: string[] = [], opts: { signal?: AbortSignal } = {}): Promise<UsageInfo[]> {
    return this.#worker.cache.diskUsage(filters, opts);
  }

  /** Removes unused cache records per `opts` (keepDuration in ms), reporting each; records in use stay. */
  async prune(opts: PruneOptions, onRecord: (r: UsageInfo) => void = () => undefined): Promise<void> {
    await this.#worker.cache.prune(opts, onRecord);
  }

  async listWorkers(): Promise<Array<{ id: string; labels: Record<string, string>; platforms: string[] }>> {
    return [{
      id: "gantry-oci",
      labels: { "org.mobyproject.buildkit.worker.executor": "oci", "org.mobyproject.buildkit.worker.snapshotter": this.#worker.kind },
      platforms: [formatPlatform(hostPlatform())],
    }];
  }

  async info(): Promise<typeof VERSION> {
    return VERSION;
  }

  async close(): Promise<void> {
    await this.#solver.close();
    await this.#results.close();
    await this.#worker.close();
    await this.#history.close();
    await this.#unlock();
  }
}

/**
 * The gateway frontend, loaded when a build first runs one: it brings the gRPC server and node:http2
 * (tens of milliseconds of module loading), which a Dockerfile build never needs.
 */
function lazyGatewayFrontend(opts: GatewayFrontendOptions): Frontend {
  let loaded: Promise<Frontend> | undefined;
  return {
    async solve(bridge, attrs, o) {
      loaded ??= import("./gateway/gateway-frontend.js").then((m) => m.createGatewayFrontend(opts));
      return (await loaded).solve(bridge, attrs, o);
    },
  };
}

/** Solves each platform's definition of a multi-platform result at once; on a failure, releases the others. */
async function solvePlatforms(refs: NonNullable<FrontendResult["refs"]>, solve: (def: Uint8Array) => Promise<WorkerRef>): Promise<PlatformResult[]> {
  const entries = Object.entries(refs);
  const settled = await Promise.allSettled(entries.map(([, r]) => solve(r.definition)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.allSettled(settled.map((s) => (s.status === "fulfilled" ? s.value.release() : undefined)));
    throw failed.reason;
  }
  return entries.map(([platform, r], i) => ({
    result: (settled[i] as PromiseFulfilledResult<WorkerRef>).value,
    platform: parsePlatform(platform),
    imageConfig: r.metadata["containerimage.config"],
  }));
}

/** True when a frontend is asked a subrequest (`requestid` attr) rather than to build. */
function isSubrequest(req: ControlSolveRequest): boolean {
  return (req.frontend !== undefined || req.frontendImpl !== undefined) && !req.definition && (req.frontendAttrs[REQUEST_ID_KEY] ?? "") !== "";
}

/**
 * A subrequest's answer (`result.json`, `result.txt`, `result.statuscode`, `version`) as the exporter
 * response. Upstream's clients read it from the gateway's Solve result; Gantry's CLI asks Control.Solve.
 */
function subrequestResponse(metadata: FrontendResult["metadata"] | undefined): Record<string, string> {
  const dec = new TextDecoder();
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, dec.decode(v)]));
}

/**
 * Upstream copies `build-arg:SOURCE_DATE_EPOCH` into every exporter's `source-date-epoch` that does not set
 * one, so `--opt build-arg:SOURCE_DATE_EPOCH=0` alone makes reproducible image metadata.
 */
function withBuildArgDefaults(exports: ControlSolveRequest["exports"], attrs: Record<string, string>): ControlSolveRequest["exports"] {
  const epoch = attrs["build-arg:SOURCE_DATE_EPOCH"];
  if (epoch === undefined) return exports;
  return exports.map((e) => ("source-date-epoch" in e.attrs ? e : { ...e, attrs: { ...e.attrs, "source-date-epoch": epoch } }));
}

/** Opens the engine on a state directory (locked for this process until `close`). */
export async function openController(opts: ControllerOptions = {}): Promise<Controller> {
  const root = opts.root ?? defaultRoot();
  const unlock = await lockStateDir(root, {
    onWait: (pid) => process.stderr.write(`waiting for ${pid ? `process ${pid}` : "another process"}, which is using ${root}\n`),
  });
  try {
    await resetTransientState(root, join(root, "executor", "runc"));
    const worker = await openWorker({ root, insecureRegistries: opts.insecureRegistries, maxParallelism: opts.maxParallelism, gc: opts.gc });
    const history = await openBuildHistory(root, worker.deps.content, opts.history).catch(async (err: unknown) => {
      await worker.close();
      throw err;
    });
    return new Controller({ worker, parallelism: parallelismOf(opts), unlock, history });
  } catch (err) {
    await unlock();
    throw err;
  }
}
