// Layer directories → compressed layer blobs in the content store. Each layer is tarred, compressed and
// ingested in one streaming pass that hashes both sides (the tar's diffID and the blob's digest). Results
// are remembered per (layer directory, compression settings), so exporting the same result again, or a
// result that shares lower layers, costs one `info` call per layer.
import { compressStream } from "../oci/compress.js";
import { writeLayerTar } from "../oci/layer-writer.js";
import type { LayerCompression } from "../oci/media-types.js";
import type { ContentStore } from "../content/content-store.js";
import type { Digest } from "../util/digest.js";
import { isNotFound } from "../util/errors.js";
import { FlightGroup } from "../util/flight-group.js";
import { Limiter } from "../util/limiter.js";
import type { ExportLayer } from "./exporter.js";
import { LABEL_UNCOMPRESSED } from "./keys.js";

export interface LayerBlob {
  /** Digest of the compressed blob as stored. */
  digest: Digest;
  size: number;
  /** Digest of the uncompressed tar. */
  diffId: Digest;
  compression: LayerCompression;
  /** The tar had no entries (the layer changed nothing). */
  empty: boolean;
}

export interface LayerBlobOptions {
  compression: LayerCompression;
  level?: number;
  /** Clamp mtimes in the tars to this many seconds since the epoch (`rewrite-timestamp`). */
  sourceDateEpoch?: number;
  /**
   * Leave out layers that change nothing. Off by default: upstream keeps them (an empty `RUN` still has
   * a non-empty_layer history entry and an empty-tar layer), and dropping them would shift history.
   */
  skipEmpty?: boolean;
  signal?: AbortSignal;
  /** Called as each layer finishes, for progress (`done` of `total`). */
  onProgress?: (done: number, total: number) => void;
}

const DEFAULT_PARALLEL = 3;

/** Makes layer blobs and remembers them for the life of the process (one instance per content store). */
export class LayerBlobCache {
  readonly #store: ContentStore;
  readonly #done = new Map<string, LayerBlob>();
  readonly #inflight = new FlightGroup<string, LayerBlob>();
  readonly #limiter: Limiter;

  constructor(store: ContentStore, opts: { parallel?: number } = {}) {
    this.#store = store;
    this.#limiter = new Limiter(opts.parallel ?? DEFAULT_PARALLEL);
  }

  /**
   * The blobs of `layers`, bottom to top (empty layers omitted only with `skipEmpty`). Errors name the
   * layer directory; Canceled on abort.
   */
  async blobs(layers: readonly ExportLayer[], opts: LayerBlobOptions): Promise<LayerBlob[]> {
    let finished = 0;
    const all = await Promise.all(layers.map(async (layer) => {
      const blob = await this.#blob(layer.path, opts);
      opts.onProgress?.(++finished, layers.length);
      return blob;
    }));
    return opts.skipEmpty ? all.filter((b) => !b.empty) : all;
  }

  async #blob(path: string, opts: LayerBlobOptions): Promise<LayerBlob> {
    const key = [path, opts.compression, opts.level ?? "", opts.sourceDateEpoch ?? ""].join("\0");
    const known = this.#done.get(key);
    if (known !== undefined && (await this.#stillStored(known.digest))) return known;
    return this.#inflight.do(key, async () => {
      const blob = await this.#limiter.run(() => this.#make(path, opts), opts.signal);
      this.#done.set(key, blob);
      return blob;
    });
  }

  async #stillStored(digest: Digest): Promise<boolean> {
    try {
      await this.#store.info(digest);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false; // garbage-collected since: make it again
      throw err;
    }
  }

  async #make(path: string, opts: LayerBlobOptions): Promise<LayerBlob> {
    const compressor = compressStream(opts.compression, { level: opts.level, signal: opts.signal });
    const stored = this.#store.ingest(compressor, { signal: opts.signal });
    const tar = writeLayerTar(path, compressor, { signal: opts.signal, sourceDateEpoch: opts.sourceDateEpoch });
    const [t, s] = await Promise.allSettled([tar, stored]);
    // The tar side's error is the cause; the ingest then only saw a stream closed early.
    if (t.status === "rejected") throw t.reason;
    if (s.status === "rejected") throw s.reason;
    const blob: LayerBlob = {
      digest: s.value.digest,
      size: s.value.size,
      diffId: t.value.diffId,
      compression: opts.compression,
      empty: t.value.entries === 0,
    };
    await this.#store.update(blob.digest, { [LABEL_UNCOMPRESSED]: blob.diffId });
    return blob;
  }
}
