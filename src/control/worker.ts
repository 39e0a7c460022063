// The worker: the concrete stores, snapshotter, executor and registry client the ops run on. This is the one
// place that picks implementations (overlay or copying snapshots, runc).
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { openCacheManager, type CacheManager } from "../cache/cache-manager.js";
import { defaultGcPolicy, defaultKeepBytes, type GcPolicy } from "../cache/gc-policy.js";
import { SqliteResultStorage } from "../cache/sqlite-result-storage.js";
import { openLocalContentStore, type LocalContentStore } from "../content/local-content-store.js";
import type { Executor } from "../executor/executor.js";
import { LayerOrigins } from "../snapshot/layer-origins.js";
import { ImageLayerCache } from "../ops/image-layer-cache.js";
import type { OpDeps } from "../ops/op-deps.js";
import { dockerConfigCredentials } from "../registry/docker-config-auth.js";
import { RegistryClient } from "../registry/registry-client.js";
import { Resolver } from "../registry/resolver.js";
import type { Snapshotter } from "../snapshot/snapshotter.js";
import type { CacheKey, CacheResultStorage } from "../solver/types.js";
import { Limiter } from "../util/limiter.js";
import { WorkerRef } from "../ops/worker-ref.js";
import { CacheAdmin, type GcOptions } from "./cache-admin.js";

export interface WorkerOptions {
  root: string;
  /** Registries reached over plain http besides loopback ones. */
  insecureRegistries?: string[];
  /** Concurrent containers and ops (buildkitd's max-parallelism); default four per CPU. */
  maxParallelism?: number;
  /** Force a snapshotter; default overlay when the kernel has it and we are root. */
  snapshotter?: "overlay" | "copy";
  /** Automatic GC; default on with upstream's policy. */
  gc?: GcOptions;
}

/** The solver's result storage, persisted in metadata.db. `close` is a no-op: the rows stay. */
export type WorkerResults = CacheResultStorage<WorkerRef> & { close(): Promise<void> };

export interface Worker {
  deps: OpDeps;
  snapshotter: Snapshotter;
  kind: "overlay" | "copy";
  /** Results by cache key, for the solver. */
  results: WorkerResults;
  /** du, prune and GC. */
  cache: CacheAdmin;
  /** Where exporters remember the blob of each committed layer across processes. */
  layerMemoDir: string;
  /** Runs pending GC, then closes the database and the snapshotter. */
  close(): Promise<void>;
}

function overlayAvailable(): boolean {
  try {
    return process.getuid?.() === 0 && readFileSync("/proc/filesystems", "utf8").includes("\toverlay");
  } catch {
    return false;
  }
}

/**
 * Build steps mostly wait (on a sleeping or I/O-bound container, a download), so one per CPU leaves cores
 * idle and runs independent stages in waves; upstream sets no limit unless max-parallelism is configured.
 */
export function parallelismOf(opts: Pick<WorkerOptions, "maxParallelism">): number {
  return opts.maxParallelism ?? 4 * cpus().length;
}

export async function openWorker(opts: WorkerOptions): Promise<Worker> {
  const kind = opts.snapshotter ?? (process.env.GANTRY_SNAPSHOTTER as "overlay" | "copy" | undefined) ?? (overlayAvailable() ? "overlay" : "copy");
  const tmpDir = join(opts.root, "tmp");
  const cacheMountDir = join(opts.root, "cachemounts");
  await Promise.all([mkdir(tmpDir, { recursive: true }), mkdir(cacheMountDir, { recursive: true })]);
  const { content, snapshotter, gcPolicy } = await openStores(opts, kind);
  let cache: CacheManager;
  try {
    cache = await openCacheManager({ dbPath: join(opts.root, "metadata.db"), snapshotter, tmpDir });
  } catch (err) {
    await snapshotter.close();
    throw err;
  }
  const refs = cache.refs;
  const admin = new CacheAdmin(cache.admin, gcPolicy, opts.gc?.delayMs);
  const registry = new RegistryClient({ credentials: dockerConfigCredentials(), insecure: opts.insecureRegistries ?? [] });
  const resolver = new Resolver({ client: registry, contentStore: content });
  const executor = lazyRuncExecutor(join(opts.root, "executor"));
  // Pulled layers remember the blob they came from, so exports reuse the base image's blobs (same memo dir).
  const imageLayers = new ImageLayerCache({ refs, content, kind, tmpDir, origins: new LayerOrigins(join(opts.root, "content", "layer-memo")) });
  const deps: OpDeps = {
    refs, content, registry, resolver, executor, imageLayers, snapshotterKind: kind, tmpDir, cacheMountDir,
    execLimiter: new Limiter(parallelismOf(opts)),
  };
  const storage = new SqliteResultStorage<WorkerRef>(cache.results, { refOf: (r) => r.ref, wrap: (ref) => new WorkerRef(ref) });
  const results: WorkerResults = {
    load: (key: CacheKey, signal?: AbortSignal) => storage.load(key, signal),
    save: async (key, result, info) => {
      await storage.save(key, result, info);
      admin.noteActivity();
    },
    close: async () => undefined,
  };
  return {
    deps,
    snapshotter,
    kind,
    results,
    cache: admin,
    layerMemoDir: join(opts.root, "content", "layer-memo"),
    async close() {
      await admin.close();
      await imageLayers.close();
      cache.close();
      await snapshotter.close();
    },
  };
}

/**
 * The content store, the snapshotter and the GC policy (a statfs) at once: they are independent, and each
 * is a few file system round trips. If one fails, an opened snapshotter is closed again.
 */
async function openStores(opts: WorkerOptions, kind: "overlay" | "copy"): Promise<{
  content: LocalContentStore; snapshotter: Snapshotter; gcPolicy: GcPolicy[] | undefined;
}> {
  const [content, snapshotter, gcPolicy] = await Promise.allSettled([
    openLocalContentStore(join(opts.root, "content")), openSnapshotter(kind, join(opts.root, "snapshots")), gcPolicyOf(opts),
  ]);
  if (content.status === "fulfilled" && snapshotter.status === "fulfilled" && gcPolicy.status === "fulfilled") {
    return { content: content.value, snapshotter: snapshotter.value, gcPolicy: gcPolicy.value };
  }
  if (snapshotter.status === "fulfilled") await snapshotter.value.close();
  throw [content, snapshotter, gcPolicy].find((r): r is PromiseRejectedResult => r.status === "rejected")?.reason;
}

/**
 * The runc executor, loaded at its first run: a fully cached build (and `du`, `prune`) never starts a
 * container, so it need not load the executor's modules.
 */
function lazyRuncExecutor(root: string): Executor {
  let executor: Promise<Executor> | undefined;
  return {
    async run(rootfs, mounts, proc, runOpts) {
      executor ??= import("../executor/runc-executor.js").then((m) => m.createRuncExecutor({ root }));
      return (await executor).run(rootfs, mounts, proc, runOpts);
    },
  };
}

// Only the snapshotter in use is loaded: every command opens the worker, so its imports are start-up time.
async function openSnapshotter(kind: "overlay" | "copy", dir: string): Promise<Snapshotter> {
  if (kind === "overlay") return (await import("../snapshot/overlay-snapshotter.js")).openOverlaySnapshotter(dir);
  return (await import("../snapshot/copy-snapshotter.js")).openCopySnapshotter(dir);
}

async function gcPolicyOf(opts: WorkerOptions): Promise<GcPolicy[] | undefined> {
  if (opts.gc?.enabled === false) return undefined;
  if (opts.gc?.policy) return opts.gc.policy;
  return defaultGcPolicy(opts.gc?.keepBytes ?? await defaultKeepBytes(opts.root));
}
