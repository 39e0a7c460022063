// Downloads the blobs of a resolved image into a content store: layers stream from the registry straight
// into an ingest (hashed while written, checked against the manifest's digest and size at commit), a few
// at a time, skipping blobs the store already has. A download cut off by the network starts again.
import type { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../oci/types.js";
import type { Digest } from "../util/digest.js";
import { GantryError, canceledError, codeOf, isCanceled, isNotFound, messageOf } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";
import { bodyChunks } from "./body-chunks.js";
import { noteSource } from "./distribution-source.js";
import type { RegistryClient } from "./registry-client.js";
import { RegistryError, registryErrorFromNetwork } from "./registry-error.js";
import type { ResolvedImage } from "./resolver.js";

export interface PullOptions {
  contentStore: ContentStore;
  /**
   * Called as a layer downloads: at start (0), at most every 100 ms, and when done (current = total).
   * A layer already in the store reports done at once. Must return quickly.
   */
  onProgress?: (layer: Digest, current: number, total: number) => void;
  signal?: AbortSignal;
  /** Parallel layer downloads; default 3. */
  concurrency?: number;
  /** Downloads of one blob started again after a broken connection; default 2. */
  retries?: number;
}

export interface PullResult {
  /** The manifest's layers, in order. */
  layers: Descriptor[];
  /** Layers downloaded by this call. */
  fetched: Digest[];
  /** Layers the store already had. */
  present: Digest[];
}

const PROGRESS_INTERVAL_MS = 100;

/**
 * Makes the content store hold every blob of `resolved` (index, manifest, config, layers). Errors:
 * FailedPrecondition when a blob does not match its descriptor (nothing of it is kept), NotFound for a
 * missing blob, Unavailable when the registry cannot be reached, Canceled. On the first failure the other
 * downloads are stopped.
 */
export async function pullImage(client: RegistryClient, resolved: ResolvedImage, opts: PullOptions): Promise<PullResult> {
  const store = opts.contentStore;
  await storeDocuments(store, resolved);
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (opts.signal?.aborted) onOuterAbort();
  const limiter = new Limiter(opts.concurrency ?? 3);
  const result: PullResult = { layers: resolved.manifest.layers, fetched: [], present: [] };
  const unique = [...new Map(resolved.manifest.layers.map((l) => [l.digest, l])).values()];
  try {
    const outcomes = await Promise.allSettled(unique.map((layer) => limiter.run(async () => {
      const fetched = await fetchLayer(client, resolved, layer, { ...opts, signal: stop.signal });
      (fetched ? result.fetched : result.present).push(layer.digest);
      // Pushes of images built on this one can then mount the layer from here instead of uploading it.
      await noteSource(store, layer.digest, resolved.ref);
    }, stop.signal).catch((err: unknown) => {
      stop.abort(err);
      throw err;
    })));
    const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
    if (opts.signal?.aborted) throw canceledError(opts.signal);
    // Report the failure that started it, not the cancellations it caused.
    const first = failures.find((e) => !isCanceled(e)) ?? failures[0];
    if (first !== undefined) throw first;
  } finally {
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
  return result;
}

async function storeDocuments(store: ContentStore, r: ResolvedImage): Promise<void> {
  const docs: Array<[Buffer, Digest]> = [[r.raw.config, r.configDescriptor.digest], [r.raw.manifest, r.manifestDescriptor.digest]];
  if (r.raw.index && r.indexDescriptor) docs.push([r.raw.index, r.indexDescriptor.digest]);
  for (const [bytes, digest] of docs) if (!(await has(store, digest))) await store.putBlob(bytes, digest);
}

/** Downloads one layer unless present; true when it downloaded. */
async function fetchLayer(client: RegistryClient, resolved: ResolvedImage, layer: Descriptor,
  opts: PullOptions & { signal: AbortSignal }): Promise<boolean> {
  const { digest, size } = layer;
  if (await has(opts.contentStore, digest)) {
    opts.onProgress?.(digest, size, size);
    return false;
  }
  const action = `pull layer ${digest} of image ${resolved.ref.name}`;
  const retries = opts.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await client.requestOk({ ref: resolved.ref, path: `blobs/${digest}`, action, signal: opts.signal });
      const body = res.body ? bodyChunks(res.body, opts.signal) : emptyBody();
      await opts.contentStore.ingest(reporting(body, layer, { ...opts, action, host: resolved.ref.registry }),
        { expected: digest, size, signal: opts.signal });
      opts.onProgress?.(digest, size, size);
      return true;
    } catch (err) {
      if (opts.signal.aborted) throw canceledError(opts.signal);
      if (err instanceof RegistryError && err.retryable && attempt < retries) continue;
      throw explain(err, action);
    }
  }
}

/** Passes the body through, reporting progress and turning transport failures into RegistryErrors. */
async function* reporting(body: AsyncIterable<Uint8Array>, layer: Descriptor,
  opts: PullOptions & { signal: AbortSignal; action: string; host: string }): AsyncGenerator<Uint8Array> {
  let current = 0;
  let last = 0;
  opts.onProgress?.(layer.digest, 0, layer.size);
  try {
    for await (const chunk of body) {
      yield chunk;
      current += chunk.length;
      const now = Date.now();
      if (now - last >= PROGRESS_INTERVAL_MS) {
        last = now;
        opts.onProgress?.(layer.digest, Math.min(current, layer.size), layer.size);
      }
    }
  } catch (err) {
    if (opts.signal.aborted) throw canceledError(opts.signal);
    if (err instanceof GantryError) throw err;
    throw registryErrorFromNetwork(err, opts.action, opts.host);
  }
}

/** Store-side mismatches are restated as a pull failure of this layer, keeping the cause. */
function explain(err: unknown, action: string): unknown {
  if (err instanceof RegistryError || codeOf(err) !== "FailedPrecondition") return err;
  return new RegistryError("FailedPrecondition",
    `Cannot ${action}: the registry sent content that does not match the manifest (${messageOf(err).replace(/\.$/, "")}).`,
    { cause: err });
}

async function has(store: ContentStore, digest: Digest): Promise<boolean> {
  try {
    await store.info(digest);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {
  // A 200 without a body: nothing to yield; the size check at commit reports it.
}
