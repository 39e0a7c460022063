// Layer directories → compressed layer blobs in the content store. Each layer is tarred, compressed and
// ingested in one streaming pass that hashes both sides (the tar's diffID and the blob's digest). Results
// are remembered per (layer directory, compression settings), so exporting the same result again, or a
// result that shares lower layers, costs one `info` call per layer.
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { compressStream } from "../oci/compress.js";
import { atomicWrite } from "../util/atomic-write.js";
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

/**
 * Makes layer blobs and remembers them (one instance per content store): in memory, and with `memoDir` on
 * disk too, so a later process exporting the same committed layer reuses its blob instead of re-tarring and
 * re-compressing it.
 */
export class LayerBlobCache {
  readonly #store: ContentStore;
  readonly #done = new Map<string, LayerBlob>();
  readonly #inflight = new FlightGroup<string, LayerBlob>();
  readonly #limiter: Limiter;
  readonly #memoDir?: string;

  constructor(store: ContentStore, opts: { parallel?: number; memoDir?: string } = {}) {
    this.#store = store;
    this.#limiter = new Limiter(opts.parallel ?? DEFAULT_PARALLEL);
    this.#memoDir = opts.memoDir;
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
      const memo = await this.#memoPath(path, key);
      const remembered = memo ? await readMemo(memo) : undefined;
      if (remembered && (await this.#stillStored(remembered.digest))) {
        this.#done.set(key, remembered);
        return remembered;
      }
      const blob = await this.#limiter.run(() => this.#make(path, opts), opts.signal);
      this.#done.set(key, blob);
      if (memo) await atomicWrite(memo, JSON.stringify(blob));
      return blob;
    });
  }

  /**
   * Where the blob of this layer directory is remembered. A committed layer never changes, but a removed
   * snapshot's path may be reused for another: the directory's inode and change time tell them apart.
   */
  async #memoPath(path: string, key: string): Promise<string | undefined> {
    if (!this.#memoDir) return undefined;
    const st = await stat(path);
    await mkdir(this.#memoDir, { recursive: true });
    const id = createHash("sha256").update(`${key}\0${st.dev}:${st.ino}:${st.ctimeMs}`).digest("hex");
    return join(this.#memoDir, `${id}.json`);
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

async function readMemo(path: string): Promise<LayerBlob | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as LayerBlob;
  } catch {
    return undefined; // absent or unreadable: the blob is simply made again
  }
}
