// `--import-cache`: opening the requested caches, and the result storage the solver uses, which on a local
// miss asks the caches imported by running builds and materialises a hit by unpacking its layer chain
// (through the image layer cache, so layers shared with pulled images or other results unpack once).
import type { ContentStore } from "../content/content-store.js";
import { parseCacheImport, type CacheEntry, type CacheImportSpec } from "../cache/remote/cache-attrs.js";
import { openLocalCache } from "../cache/remote/local-cache-dir.js";
import { openRegistryCache } from "../cache/remote/registry-cache.js";
import type { ImportedCache } from "../cache/remote/remote-cache.js";
import type { ImageLayerCache } from "../ops/image-layer-cache.js";
import { WorkerRef } from "../ops/worker-ref.js";
import { dockerConfigCredentials } from "../registry/docker-config-auth.js";
import { RegistryClient } from "../registry/registry-client.js";
import type { CacheKey } from "../solver/types.js";
import { isNotFound, messageOf } from "../util/errors.js";
import type { ProgressSink } from "../util/progress-event.js";
import { progressStep } from "./progress-step.js";
import type { WorkerResults } from "./worker.js";

/** Checks every `--import-cache` entry (before the build starts). */
export function resolveCacheImports(entries: readonly CacheEntry[]): CacheImportSpec[] {
  return entries.map(parseCacheImport);
}

/** The registry client for a cache ref: the worker's, or one that speaks plain http to it (`registry.insecure`). */
export function cacheRegistryClient(shared: RegistryClient, registry: string, insecure: boolean): RegistryClient {
  return insecure ? new RegistryClient({ credentials: dockerConfigCredentials(), insecure: [registry] }) : shared;
}

/**
 * Opens each cache as a progress step. A cache that does not exist yet (the first build) is a warning, not
 * a failure, as upstream treats it; other errors fail the build.
 */
export async function openCacheImports(specs: readonly CacheImportSpec[], deps: { registry: RegistryClient },
  opts: { progress: ProgressSink; sessionId: string; signal?: AbortSignal }): Promise<ImportedCache[]> {
  const out: ImportedCache[] = [];
  for (const [i, spec] of specs.entries()) {
    const what = spec.type === "local" ? spec.src : spec.ref.toString();
    const cache = await progressStep(opts.progress, `${opts.sessionId}-import-cache-${i}`, `importing cache manifest from ${what}`, async (vp) => {
      try {
        return spec.type === "local"
          ? await openLocalCache(spec.src, { tag: spec.tag, digest: spec.digest })
          : await openRegistryCache(cacheRegistryClient(deps.registry, spec.ref.registry, spec.insecure), spec.ref, opts.signal);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        vp.warn(`No cache imported from ${what}: ${messageOf(err)}`);
        return undefined;
      }
    });
    if (cache) out.push(cache);
  }
  return out;
}

/**
 * The solver's result storage: the worker's persistent one, then the caches of running builds. A remote hit
 * is unpacked, saved locally under the key (so the next build finds it without the import) and returned.
 */
export class ImportingResults implements WorkerResults {
  readonly #local: WorkerResults;
  readonly #content: ContentStore;
  readonly #layers: ImageLayerCache;
  readonly #sources = new Set<ImportedCache>();

  constructor(local: WorkerResults, deps: { content: ContentStore; imageLayers: ImageLayerCache }) {
    this.#local = local;
    this.#content = deps.content;
    this.#layers = deps.imageLayers;
  }

  /** Makes `caches` answer lookups until the returned function is called (at the end of their build). */
  use(caches: readonly ImportedCache[]): () => void {
    for (const c of caches) this.#sources.add(c);
    return () => {
      for (const c of caches) this.#sources.delete(c);
    };
  }

  async load(key: CacheKey, signal?: AbortSignal): Promise<WorkerRef | undefined> {
    const local = await this.#local.load(key, signal);
    if (local || this.#sources.size === 0) return local;
    for (const source of this.#sources) {
      const chain = source.lookup(key);
      if (!chain) continue;
      await Promise.all(chain.layers.map((d) => source.fetchBlob(d, this.#content, signal)));
      const ref = await this.#layers.unpack(chain.layers, chain.diffIds, { signal, description: `imported cache layer from ${source.name}` });
      const result = new WorkerRef(ref);
      try {
        await this.#local.save(key, result, { vertexName: `imported from ${source.name}` });
      } catch (err) {
        await result.release();
        throw err;
      }
      return result;
    }
    return undefined;
  }

  save(key: CacheKey, result: WorkerRef, info: { vertexName: string }): Promise<void> {
    return this.#local.save(key, result, info);
  }

  close(): Promise<void> {
    return this.#local.close();
  }
}
