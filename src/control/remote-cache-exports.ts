// `--export-cache`: after the solve, the keys of what the build resolved become cache records; the results
// to include (mode=min: those whose layers are a prefix of the final result's, mode=max: all) become layer
// blobs, and the config, manifest and blobs go to a local layout or a registry. The inline cache instead
// rides in the image config of the image exporters.
import type { RefManager } from "../cache/ref-manager.js";
import type { CacheExportSpec } from "../cache/remote/cache-attrs.js";
import { buildCacheConfig, buildInlineRecords, INLINE_CACHE_CONFIG_KEY, type ExportBlob, type ExportRecord } from "../cache/remote/cache-config.js";
import { storeCacheDocuments } from "../cache/remote/cache-manifest.js";
import { inlineCacheValue } from "../cache/remote/inline-cache.js";
import { writeLocalCache } from "../cache/remote/local-cache-dir.js";
import { pushRegistryCache } from "../cache/remote/registry-cache.js";
import type { ContentStore } from "../content/content-store.js";
import { defaultImageConfig } from "../exporter/image-config.js";
import type { LayerBlobCache } from "../exporter/layer-blobs.js";
import { layerMediaType } from "../oci/compress.js";
import type { Platform } from "../oci/types.js";
import type { WorkerRef } from "../ops/worker-ref.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { LayerDir } from "../snapshot/snapshotter.js";
import type { SolvedOutput } from "../solver/types.js";
import { messageOf } from "../util/errors.js";
import type { ProgressSink } from "../util/progress-event.js";
import { progressStep } from "./progress-step.js";
import { cacheRegistryClient } from "./remote-cache-imports.js";

/** A solved key with the layers of its result (undefined: the result is left out of the export). */
interface KeyRecord {
  key: string;
  deps: { key: string; selector?: string }[];
  layers?: LayerDir[];
  /** The result's layers are the first `prefix` layers of the final result (-1: they are not). */
  prefix: number;
}

export interface CacheExportRun {
  /** What the solve resolved (results cloned for the export; the caller releases them). */
  solved: readonly SolvedOutput<WorkerRef>[];
  final: WorkerRef;
  refs: RefManager;
  layerBlobs: LayerBlobCache;
  content: ContentStore;
  registry: RegistryClient;
  progress: ProgressSink;
  sessionId: string;
  signal?: AbortSignal;
}

/** The records of a solve with each result's layers and whether they prefix the final result's layers. */
async function keyRecords(run: CacheExportRun): Promise<{ records: KeyRecord[]; final: LayerDir[] }> {
  const final = await run.refs.layers(run.final.ref);
  const byResult = new Map<string, Promise<LayerDir[]>>();
  const records: KeyRecord[] = [];
  for (const out of run.solved) {
    let layers = byResult.get(out.result.id);
    if (!layers) {
      layers = run.refs.layers(out.result.ref);
      byResult.set(out.result.id, layers);
    }
    const dirs = await layers;
    const isPrefix = dirs.length <= final.length && dirs.every((d, i) => d.path === final[i].path);
    for (const k of out.keys) records.push({ key: k.key, deps: k.deps, layers: dirs, prefix: isPrefix ? dirs.length : -1 });
  }
  return { records, final };
}

/**
 * Adds the inline cache (min mode) to `imageConfig` (or to the default config), or returns it unchanged
 * when nothing has layers. The image exporters write the image's layers in the same order, so a result
 * whose layers are the image's first n is `layer: n-1`.
 */
export async function withInlineCache(run: CacheExportRun, imageConfig: Uint8Array | undefined, platform: Platform): Promise<Uint8Array | undefined> {
  const { records } = await keyRecords(run);
  const now = new Date();
  const inline = buildInlineRecords(records.map((r) => ({ key: r.key, deps: r.deps, createdAt: now, depth: Math.max(r.prefix, 0) })));
  if (!inline.some((r) => r.layers)) return imageConfig;
  const config = imageConfig && imageConfig.length > 0
    ? JSON.parse(Buffer.from(imageConfig).toString("utf8")) as Record<string, unknown>
    : defaultImageConfig(platform);
  config[INLINE_CACHE_CONFIG_KEY] = inlineCacheValue(inline);
  return Buffer.from(JSON.stringify(config));
}

/** Exports to every local/registry spec, each as a progress step; `ignore-error` turns failures into warnings. */
export async function exportRemoteCaches(specs: readonly CacheExportSpec[], run: CacheExportRun): Promise<Record<string, string>> {
  const response: Record<string, string> = {};
  const targets = specs.filter((s): s is Exclude<CacheExportSpec, { type: "inline" }> => s.type !== "inline");
  if (targets.length === 0) return response;
  const { records, final } = await keyRecords(run);
  for (const [i, spec] of targets.entries()) {
    const name = spec.type === "local" ? "exporting cache to client directory" : "exporting cache to registry";
    await progressStep(run.progress, `${run.sessionId}-export-cache-${i}`, name, async (vp) => {
      try {
        const chosen = records.map((r) => (spec.mode === "max" || r.prefix >= 0 ? r : { ...r, layers: undefined }));
        vp.status("preparing build cache for export", 0, 0);
        const exportRecords = await withBlobs(chosen, final, spec, run);
        const { config, blobs } = buildCacheConfig(exportRecords.records, exportRecords.finalChain);
        vp.statusDone("preparing build cache for export");
        if (blobs.length === 0) {
          vp.warn("Skipping cache export: no result has layers.");
          return;
        }
        const docs = await storeCacheDocuments(run.content, config, blobs, spec);
        vp.status(`writing cache manifest ${docs.manifest.digest}`, 0, 0);
        if (spec.type === "local") await writeLocalCache(spec.dest, spec.tag, docs, run.content, run.signal);
        else await pushRegistryCache(cacheRegistryClient(run.registry, spec.ref.registry, spec.insecure), spec.ref, docs, run.content, run.signal);
        vp.statusDone(`writing cache manifest ${docs.manifest.digest}`);
        response["cache.manifest"] = JSON.stringify(docs.manifest);
      } catch (err) {
        if (!spec.ignoreError || run.signal?.aborted) throw err;
        vp.warn(`Cache export failed and was ignored (ignore-error=true): ${messageOf(err)}`);
      }
    });
  }
  return response;
}

/** Layer blobs (made or remembered by the layer blob cache) for the chosen results and the final chain. */
async function withBlobs(records: readonly KeyRecord[], final: readonly LayerDir[],
  spec: Exclude<CacheExportSpec, { type: "inline" }>, run: CacheExportRun): Promise<{ records: ExportRecord[]; finalChain: ExportBlob[] }> {
  const dirs = new Map<string, LayerDir>();
  for (const r of records) for (const l of r.layers ?? []) dirs.set(l.path, l);
  const wanted = [...dirs.values()];
  const made = await run.layerBlobs.blobs(wanted, { compression: spec.compression, level: spec.compressionLevel, signal: run.signal });
  const byPath = new Map<string, ExportBlob>();
  wanted.forEach((l, i) => {
    const b = made[i];
    byPath.set(l.path, { digest: b.digest, size: b.size, diffId: b.diffId, mediaType: layerMediaType(b.compression, spec.ociTypes) });
  });
  const now = new Date();
  const chainOf = (layers: readonly LayerDir[]): ExportBlob[] => layers.map((l) => byPath.get(l.path)).filter((b) => b !== undefined);
  const out: ExportRecord[] = records.map((r) => ({
    key: r.key, deps: r.deps, createdAt: now, ...(r.layers && r.layers.length > 0 ? { chain: chainOf(r.layers) } : {}),
  }));
  const finalChain = final.every((l) => byPath.has(l.path)) ? chainOf(final) : [];
  return { records: out, finalChain };
}
