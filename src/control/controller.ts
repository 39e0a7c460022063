// The controller: one engine (worker, solver, exporters, frontends) behind the Control API's operations.
// The embedded client and gantryd both drive it.
import { join } from "node:path";
import type { BuildSession } from "../session/build-session.js";
import { loadDefinition } from "../llb/definition.js";
import type { Frontend } from "../frontend/frontend.js";
import { createDockerfileFrontend } from "../frontend/dockerfile/dockerfile-frontend.js";
import { EngineBridge } from "./frontend-bridge.js";
import { llbGraph, type LlbPayload } from "../ops/llb-graph.js";
import { createLlbOpResolver } from "../ops/op-resolver.js";
import { WorkerRef } from "../ops/worker-ref.js";
import { hostPlatform, formatPlatform } from "../oci/platform.js";
import { createSolver, type Solver } from "../solver/solver.js";
import { GantryError } from "../util/errors.js";
import type { ProgressSink } from "../util/progress-event.js";
import { createExporters, resolveExports, runExports } from "./exporters.js";
import { defaultRoot, lockStateDir, resetTransientState } from "./state-dir.js";
import { openWorker, parallelismOf, type Worker, type WorkerResults } from "./worker.js";
import type { GcOptions } from "./cache-admin.js";
import type { PruneOptions, UsageInfo } from "../cache/cache-pruner.js";
import type { Exporter } from "../exporter/exporter.js";

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
}

export interface ControllerOptions {
  root?: string;
  insecureRegistries?: string[];
  maxParallelism?: number;
  /** Automatic GC after builds (default on, upstream's policy over 10% of the disk). */
  gc?: GcOptions;
}

export const VERSION = { package: "github.com/gantry-build/gantry", version: "v0.1.0", revision: "dev" };

export class Controller {
  readonly #worker: Worker;
  readonly #solver: Solver<LlbPayload, WorkerRef>;
  readonly #results: WorkerResults;
  readonly #exporters: Map<string, Exporter>;
  readonly #unlock: () => Promise<void>;
  readonly #frontends = new Map<string, Frontend>([["dockerfile.v0", createDockerfileFrontend()]]);

  constructor(parts: { worker: Worker; parallelism: number; unlock: () => Promise<void> }) {
    this.#worker = parts.worker;
    this.#unlock = parts.unlock;
    this.#results = parts.worker.results;
    this.#solver = createSolver({ resolveOp: createLlbOpResolver(parts.worker.deps), results: this.#results, parallelism: parts.parallelism });
    this.#exporters = createExporters(parts.worker.deps.content, parts.worker.deps.registry, parts.worker.layerMemoDir);
  }

  async solve(req: ControlSolveRequest, opts: { signal?: AbortSignal; progress: ProgressSink }): Promise<{ exporterResponse: Record<string, string> }> {
    const exports = await resolveExports(this.#exporters, withBuildArgDefaults(req.exports, req.frontendAttrs));
    const platform = hostPlatform();
    const build = { session: req.session, platform, entitlements: new Set(req.entitlements ?? []) };
    const bridge = new EngineBridge({ solver: this.#solver, deps: this.#worker.deps, build, progress: opts.progress, noCache: req.noCache, signal: opts.signal });
    try {
      const { definition, imageConfig } = await this.#definitionOf(req, bridge, opts.signal);
      // An empty definition (what scratch() marshals to) builds the empty filesystem, as upstream's does.
      const result = definition.length === 0
        ? WorkerRef.scratch()
        : await this.#solver.solve(llbGraph(loadDefinition(definition), build, { noCache: req.noCache }), { signal: opts.signal, progress: opts.progress });
      try {
        const exporterResponse = await runExports(exports, {
          result, refs: this.#worker.deps.refs, platform, imageConfig, sessionId: req.session.id, progress: opts.progress, signal: opts.signal,
        });
        return { exporterResponse };
      } finally {
        await result.release();
      }
    } finally {
      await bridge.release();
    }
  }

  async #definitionOf(req: ControlSolveRequest, bridge: EngineBridge, signal?: AbortSignal): Promise<{ definition: Uint8Array; imageConfig?: Uint8Array }> {
    if (req.definition) return { definition: req.definition };
    if (!req.frontend && !req.frontendImpl) throw new GantryError("InvalidArgument", "Nothing to build: give an LLB definition on stdin or a --frontend.");
    const frontend = req.frontendImpl ?? this.#frontends.get(req.frontend ?? "");
    if (!frontend) throw new GantryError("InvalidArgument", `Unknown frontend "${req.frontend}": use ${[...this.#frontends.keys()].join(", ")}.`);
    const res = await frontend.solve(bridge, req.frontendAttrs, { signal });
    return { definition: res.definition, imageConfig: res.metadata["containerimage.config"] };
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
    await this.#unlock();
  }
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
    onWait: (pid) => process.stderr.write(`waiting for process ${pid}, which is using ${root}\n`),
  });
  try {
    await resetTransientState(root, join(root, "executor", "runc"));
    const worker = await openWorker({ root, insecureRegistries: opts.insecureRegistries, maxParallelism: opts.maxParallelism, gc: opts.gc });
    return new Controller({ worker, parallelism: parallelismOf(opts), unlock });
  } catch (err) {
    await unlock();
    throw err;
  }
}
