// The exporters by type name, and running them as progress vertices after the solve.
import { createDockerExporter, createOciExporter } from "../exporter/oci-exporter.js";
import { createImageExporter } from "../exporter/image-exporter.js";
import { createLocalExporter } from "../exporter/local-exporter.js";
import { createTarExporter } from "../exporter/tar-exporter.js";
import type { Exporter, ExporterInstance, ExportSource } from "../exporter/exporter.js";
import type { LayerBlobCache } from "../exporter/layer-blobs.js";
import type { ContentStore } from "../content/content-store.js";
import type { RefManager } from "../cache/ref-manager.js";
import type { Platform } from "../oci/types.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { WorkerRef } from "../ops/worker-ref.js";
import { createVertexProgress } from "../solver/vertex-progress.js";
import type { ProgressSink } from "../util/progress-event.js";
import { sha256 } from "../util/digest.js";
import { GantryError, messageOf } from "../util/errors.js";

/** Gantry's extension for LLB builds: the image config to export with, given as an exporter attr. */
export const IMAGE_CONFIG_ATTR = "containerimage.config";

/**
 * The exporters by type; `registry` (the client for pushes) should be the worker's, sharing its auth state,
 * and `layerBlobs` the engine's, shared with the cache exports.
 */
export function createExporters(store: ContentStore, layerBlobs: LayerBlobCache, registry?: RegistryClient): Map<string, Exporter> {
  const image = createImageExporter({ store, layerBlobs, registry });
  return new Map<string, Exporter>([
    ["local", createLocalExporter()],
    ["tar", createTarExporter()],
    ["oci", createOciExporter({ store, layerBlobs })],
    ["docker", createDockerExporter({ store, layerBlobs })],
    ["image", image],
    ["registry", { resolve: (attrs) => image.resolve({ ...attrs, push: "true" }) }],
  ]);
}

export interface ResolvedExport {
  instance: ExporterInstance;
  imageConfig?: Uint8Array;
}

/** Checks every requested export before anything is built, so a typo fails fast. */
export async function resolveExports(exporters: Map<string, Exporter>, entries: Array<{ type: string; attrs: Record<string, string> }>): Promise<ResolvedExport[]> {
  const out: ResolvedExport[] = [];
  for (const e of entries) {
    const exporter = exporters.get(e.type);
    if (!exporter) {
      throw new GantryError("InvalidArgument", `Unknown exporter type "${e.type}": use ${[...exporters.keys()].join(", ")}.`);
    }
    const { [IMAGE_CONFIG_ATTR]: config, ...attrs } = e.attrs;
    out.push({ instance: await exporter.resolve(attrs), ...(config ? { imageConfig: Buffer.from(config) } : {}) });
  }
  return out;
}

/** One platform's result of a multi-platform build. */
export interface PlatformResult {
  result: WorkerRef;
  platform: Platform;
  imageConfig?: Uint8Array;
}

export interface ExportRun {
  result: WorkerRef;
  refs: RefManager;
  platform: Platform;
  imageConfig?: Uint8Array;
  /** A multi-platform result (two or more platforms); `result`/`platform` are then its first. */
  platforms?: PlatformResult[];
  sessionId: string;
  progress: ProgressSink;
  signal?: AbortSignal;
}

/** Runs each export as its own progress vertex and merges their responses. */
export async function runExports(exports: readonly ResolvedExport[], run: ExportRun): Promise<Record<string, string>> {
  const response: Record<string, string> = {};
  const multi = run.platforms !== undefined && run.platforms.length > 1;
  for (const exp of exports) {
    if (multi && !exp.instance.exportPlatforms) {
      throw new GantryError("InvalidArgument", `The ${exp.instance.type} exporter cannot export a multi-platform result: build one platform, or use type=oci, image or local.`);
    }
  }
  const parts = multi ? run.platforms as PlatformResult[] : [{ result: run.result, platform: run.platform, imageConfig: run.imageConfig }];
  const sources = exports.length ? await Promise.all(parts.map((p) => exportSource(run, p))) : [];
  for (const [i, exp] of exports.entries()) {
    const digest = sha256(`${run.sessionId}-export${i ? `-${i}` : ""}`);
    const name = exp.instance.name;
    const started = new Date();
    run.progress({ type: "vertex", digest, inputs: [], name, started });
    try {
      const opts = { signal: run.signal, progress: createVertexProgress(digest, run.progress) };
      const res = multi
        ? await (exp.instance.exportPlatforms as NonNullable<ExporterInstance["exportPlatforms"]>)(sources, opts)
        : await exp.instance.export({ ...sources[0], imageConfig: exp.imageConfig ?? sources[0].imageConfig }, opts);
      await res.finalize?.({ signal: run.signal });
      Object.assign(response, res.response);
      run.progress({ type: "vertex", digest, inputs: [], name, started, completed: new Date() });
    } catch (err) {
      run.progress({ type: "vertex", digest, inputs: [], name, started, completed: new Date(), error: messageOf(err) });
      throw err;
    }
  }
  return response;
}

/** What an exporter sees of one platform's result: its layers, and its rootfs mounted on demand. */
async function exportSource(run: ExportRun, part: PlatformResult): Promise<ExportSource> {
  return {
    layers: await run.refs.layers(part.result.ref),
    platform: part.platform,
    imageConfig: part.imageConfig,
    withRootfs: async (fn) => {
      const view = await run.refs.mountReadonly(part.result.ref, { signal: run.signal });
      try {
        return await fn(view.dir);
      } finally {
        await view.release();
      }
    },
  };
}
