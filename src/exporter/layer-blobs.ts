// Layer directories → compressed layer blobs in the content store. Each layer is tarred, compressed and
// ingested in one streaming pass that hashes both sides (the tar's diffID and the blob's digest). Results
// are remembered per (layer directory, compression settings), so exporting the same result again, or a
// result that shares lower layers, costs one `info` call per layer. A layer unpacked from a pulled image
// is exported as that image's own blob when the compression asked for is the blob's (as upstream does).
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { compressStream } from "../oci/compress.js";
import { estargzFromTar } from "../oci/estargz.js";
import { writeLayerTar } from "../oci/layer-writer.js";
import { layerCompression, type LayerCompression } from "../oci/media-types.js";
import { readXattrsOfDirs } from "../oci/xattr-batch.js";
import type { XattrMap } from "../oci/xattr-reader.js";
import { LayerOrigins } from "../snapshot/layer-origins.js";
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
  /** Descriptor annotations the blob needs (eStargz's TOC digest and uncompressed size). */
  annotations?: Record<string, string>;
}

export interface LayerBlobOptions {
  compression: LayerCompression;
  /** With gzip: lay the blob out as eStargz (lazily pullable; `compression=estargz`). */
  estargz?: boolean;
  level?: number;
  /** Clamp mtimes in the tars to this many seconds since the epoch (`rewrite-timestamp`). */
  sourceDateEpoch?: number;
  /**
   * Leave out layers that change nothing. Off by default: upstream keeps them (an empty `RUN` still has
   * a non-empty_layer history entry and an empty-tar layer), and dropping them would shift history.
   */
  skipEmpty?: boolean;
  /** `force-compression`: tar a pulled layer anew even when its own blob has the compression asked for. */
  forceCompression?: boolean;
  signal?: AbortSignal;
  /** Called as each layer finishes, for progress (`done` of `total`). */
  onProgress?: (done: number, total: number) => void;
}

const DEFAULT_PARALLEL = 3;

type XattrBatch = Promise<Map<string, XattrMap>> | undefined;

/**
 * Makes layer blobs and remembers them (one instance per content store): in memory, and with `memoDir` on
 * disk too, so a later process exporting the same committed layer reuses its blob instead of re-tarring and
 * re-compressing it. `memoDir` also holds the layer origins that ImageLayerCache records for pulled layers.
 */
export class LayerBlobCache {
  readonly #store: ContentStore;
  readonly #done = new Map<string, LayerBlob>();
  readonly #inflight = new FlightGroup<string, LayerBlob>();
  readonly #limiter: Limiter;
  readonly #memoDir?: string;
  readonly #origins?: LayerOrigins;

  constructor(store: ContentStore, opts: { parallel?: number; memoDir?: string } = {}) {
    this.#store = store;
    this.#limiter = new Limiter(opts.parallel ?? DEFAULT_PARALLEL);
    this.#memoDir = opts.memoDir;
    this.#origins = opts.memoDir === undefined ? undefined : new LayerOrigins(opts.memoDir);
  }

  /**
   * The blobs of `layers`, bottom to top (empty layers omitted only with `skipEmpty`). Errors name the
   * layer directory; Canceled on abort.
   */
  async blobs(layers: readonly ExportLayer[], opts: LayerBlobOptions): Promise<LayerBlob[]> {
    const known = await Promise.all(layers.map((layer) => this.#known(layer.path, opts)));
    // One getfattr run for all the layers to tar, rather than a process per layer.
    const missing = [...new Set(layers.filter((_, i) => known[i] === undefined).map((l) => l.path))];
    const xattrs: XattrBatch = missing.length > 1 ? readXattrsOfDirs(missing, { signal: opts.signal }) : undefined;
    xattrs?.catch(() => undefined); // each layer then reads its own (see writeLayerTar)
    let finished = 0;
    const all = await Promise.all(layers.map(async (layer, i) => {
      const blob = known[i] ?? (await this.#blob(layer.path, opts, xattrs));
      opts.onProgress?.(++finished, layers.length);
      return blob;
    }));
    return opts.skipEmpty ? all.filter((b) => !b.empty) : all;
  }

  /**
   * The blob of `path` when it needs no tarring: made before (in this process or, per the memo, an earlier
   * one), or the pulled blob it was unpacked from.
   */
  async #known(path: string, opts: LayerBlobOptions): Promise<LayerBlob | undefined> {
    const key = keyOf(path, opts);
    const known = this.#done.get(key);
    if (known !== undefined && (await this.#stillStored(known.digest))) return known;
    const pulled = await this.#pulled(path, opts);
    if (pulled !== undefined) return pulled;
    const memo = await this.#memoPath(path, key);
    const remembered = memo ? await readMemo(memo) : undefined;
    if (remembered === undefined || !(await this.#stillStored(remembered.digest))) return undefined;
    this.#done.set(key, remembered);
    return remembered;
  }

  /**
   * The pulled blob `path` holds, if its compression is the one asked for. Not with force-compression or a
   * timestamp rewrite: both ask for bytes made here.
   */
  async #pulled(path: string, opts: LayerBlobOptions): Promise<LayerBlob | undefined> {
    if (!this.#origins || opts.forceCompression || opts.estargz || opts.sourceDateEpoch !== undefined) return undefined;
    const origin = await this.#origins.lookup(path);
    if (origin === undefined || layerCompression(origin.mediaType) !== opts.compression) return undefined;
    if (!(await this.#stillStored(origin.digest))) return undefined;
    const blob: LayerBlob = { digest: origin.digest, size: origin.size, diffId: origin.diffId, compression: opts.compression, empty: false };
    this.#done.set(keyOf(path, opts), blob);
    return blob;
  }

  async #blob(path: string, opts: LayerBlobOptions, xattrs: XattrBatch): Promise<LayerBlob> {
    const key = keyOf(path, opts);
    return this.#inflight.do(key, async () => {
      // A concurrent export may have made it since `#known` looked.
      const known = await this.#known(path, opts);
      if (known !== undefined) return known;
      const memo = await this.#memoPath(path, key);
      const blob = await this.#limiter.run(() => this.#make(path, opts, xattrs), opts.signal);
      // Both are small synced writes: overlap their waits.
      await Promise.all([
        this.#store.update(blob.digest, { [LABEL_UNCOMPRESSED]: blob.diffId }),
        memo ? writeMemo(memo, JSON.stringify(blob)) : undefined,
      ]);
      this.#done.set(key, blob);
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

  /**
   * Tars, compresses and ingests in one pass. For eStargz the tar goes through the converter, whose
   * decompressed stream (with its TOC) is what the diffID covers.
   */
  async #make(path: string, opts: LayerBlobOptions, xattrs: XattrBatch): Promise<LayerBlob> {
    const tarOut = opts.estargz ? new PassThrough() : compressStream(opts.compression, { level: opts.level, signal: opts.signal });
    const conversion = opts.estargz ? estargzFromTar(tarOut, { level: opts.level, signal: opts.signal }) : undefined;
    const stored = this.#store.ingest(conversion?.blob ?? tarOut, { signal: opts.signal });
    const tar = writeLayerTar(path, tarOut, {
      signal: opts.signal,
      sourceDateEpoch: opts.sourceDateEpoch,
      xattrs: xattrs?.then((m) => m.get(path)),
    });
    const [t, s, c] = await Promise.allSettled([tar, stored, conversion?.done]);
    // The tar side's error is the cause; the others then only saw a stream closed early.
    if (t.status === "rejected") throw t.reason;
    if (c.status === "rejected") throw c.reason;
    if (s.status === "rejected") throw s.reason;
    return {
      digest: s.value.digest,
      size: s.value.size,
      diffId: c.value?.diffId ?? t.value.diffId,
      compression: opts.compression,
      empty: t.value.entries === 0,
      ...(c.value ? { annotations: c.value.annotations } : {}),
    };
  }
}

/** Settings that change a layer's blob; force-compression does not (it only rules out pulled blobs). */
function keyOf(path: string, opts: LayerBlobOptions): string {
  return [path, opts.estargz ? "estargz" : opts.compression, opts.level ?? "", opts.sourceDateEpoch ?? ""].join("\0");
}

/**
 * Writes a memo whole (temp file + rename) but without fsync: a memo lost or torn by a crash only costs
 * making the blob again (readMemo treats it as absent), and a sync per layer is most of a tiny layer's time.
 */
async function writeMemo(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

async function readMemo(path: string): Promise<LayerBlob | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as LayerBlob;
  } catch {
    return undefined; // absent or unreadable: the blob is simply made again
  }
}
