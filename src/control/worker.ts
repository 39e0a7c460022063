// The worker: the concrete stores, snapshotter, executor and registry client the ops run on. This is the one
// place that picks implementations (overlay or copying snapshots, runc).
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createRefManager } from "../cache/ref-manager.js";
import { openLocalContentStore } from "../content/local-content-store.js";
import { createRuncExecutor } from "../executor/runc-executor.js";
import { ImageLayerCache } from "../ops/image-layer-cache.js";
import type { OpDeps } from "../ops/op-deps.js";
import { dockerConfigCredentials } from "../registry/docker-config-auth.js";
import { RegistryClient } from "../registry/registry-client.js";
import { Resolver } from "../registry/resolver.js";
import { openCopySnapshotter } from "../snapshot/copy-snapshotter.js";
import { openOverlaySnapshotter } from "../snapshot/overlay-snapshotter.js";
import type { Snapshotter } from "../snapshot/snapshotter.js";
import { Limiter } from "../util/limiter.js";

export interface WorkerOptions {
  root: string;
  /** Registries reached over plain http besides loopback ones. */
  insecureRegistries?: string[];
  /** Concurrent containers; default the CPU count. */
  maxParallelism?: number;
  /** Force a snapshotter; default overlay when the kernel has it and we are root. */
  snapshotter?: "overlay" | "copy";
}

export interface Worker {
  deps: OpDeps;
  snapshotter: Snapshotter;
  kind: "overlay" | "copy";
  close(): Promise<void>;
}

function overlayAvailable(): boolean {
  try {
    return process.getuid?.() === 0 && readFileSync("/proc/filesystems", "utf8").includes("\toverlay");
  } catch {
    return false;
  }
}

export async function openWorker(opts: WorkerOptions): Promise<Worker> {
  const kind = opts.snapshotter ?? (process.env.GANTRY_SNAPSHOTTER as "overlay" | "copy" | undefined) ?? (overlayAvailable() ? "overlay" : "copy");
  const tmpDir = join(opts.root, "tmp");
  const cacheMountDir = join(opts.root, "cachemounts");
  await Promise.all([mkdir(tmpDir, { recursive: true }), mkdir(cacheMountDir, { recursive: true })]);
  const content = await openLocalContentStore(join(opts.root, "content"));
  const snapshotter = kind === "overlay"
    ? await openOverlaySnapshotter(join(opts.root, "snapshots"))
    : await openCopySnapshotter(join(opts.root, "snapshots"));
  const refs = createRefManager({ snapshotter, tmpDir });
  const registry = new RegistryClient({ credentials: dockerConfigCredentials(), insecure: opts.insecureRegistries ?? [] });
  const resolver = new Resolver({ client: registry, contentStore: content });
  const executor = createRuncExecutor({ root: join(opts.root, "executor") });
  const imageLayers = new ImageLayerCache({ refs, content, kind, tmpDir });
  const deps: OpDeps = {
    refs, content, registry, resolver, executor, imageLayers, snapshotterKind: kind, tmpDir, cacheMountDir,
    execLimiter: new Limiter(opts.maxParallelism ?? cpus().length),
  };
  return {
    deps,
    snapshotter,
    kind,
    async close() {
      await imageLayers.close();
      await snapshotter.close();
    },
  };
}
