// Unpacked image layers, by chain id, shared by every build of the worker and kept across restarts: the
// second FROM of the same base reuses the snapshots the first one unpacked. Each layer is a snapshot on top
// of the previous one.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ContentStore } from "../content/content-store.js";
import type { ImmutableRef, MutableRef, RefManager } from "../cache/ref-manager.js";
import { applyLayer } from "../oci/layer-apply.js";
import { decompressStream } from "../oci/decompress.js";
import type { Descriptor } from "../oci/types.js";
import { MediaType } from "../oci/media-types.js";
import { applyLayerDir } from "../snapshot/apply-layer-dir.js";
import type { LayerOrigins } from "../snapshot/layer-origins.js";
import { mountAll, unmountAll } from "../snapshot/mount.js";
import type { Mount } from "../snapshot/snapshotter.js";
import { sha256, type Digest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import { FlightGroup } from "../util/flight-group.js";

/** chainID(L0…Ln) as the image spec defines it: diffId of the first, then sha256("<parent> <diffId>"). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

export interface UnpackOptions {
  signal?: AbortSignal;
  /** Reports `extracting <digest>` progress: called when a layer starts and when it is done. */
  onLayer?: (layer: Digest, done: boolean) => void;
  /** What `du` shows for layers unpacked now; default `pulled layer <digest>`. */
  description?: string;
}

/** The pin (RefManager.setNamed) under which the snapshot of a layer chain is kept. */
function pinOf(chain: Digest): string {
  return `image-layer:${chain}`;
}

/**
 * Unpacked layers are pinned in the ref manager by chain id, so they persist across builds and restarts
 * until pruned. A layer is unpacked once even when concurrent builds need it.
 */
export class ImageLayerCache {
  readonly #refs: RefManager;
  readonly #content: ContentStore;
  readonly #kind: "overlay" | "copy";
  readonly #tmp: string;
  readonly #flight = new FlightGroup<Digest, void>();
  readonly #origins?: LayerOrigins;

  /**
   * With `origins`, each unpacked layer's directory is recorded as the content of its blob, so exporters
   * can reuse the pulled blob for it (see snapshot/layer-origins.ts).
   */
  constructor(opts: { refs: RefManager; content: ContentStore; kind: "overlay" | "copy"; tmpDir: string; origins?: LayerOrigins }) {
    this.#refs = opts.refs;
    this.#content = opts.content;
    this.#kind = opts.kind;
    this.#tmp = opts.tmpDir;
    this.#origins = opts.origins;
  }

  /** A new reference to the image's top layer (null for an image without layers). */
  async unpack(layers: readonly Descriptor[], diffIds: readonly Digest[], opts: UnpackOptions = {}): Promise<ImmutableRef | null> {
    if (layers.length !== diffIds.length) {
      throw new GantryError("FailedPrecondition", `The image has ${layers.length} layers but its config lists ${diffIds.length} diff ids.`);
    }
    const chain = chainIds(diffIds);
    let parent: ImmutableRef | null = null;
    try {
      for (let i = 0; i < layers.length; i++) {
        let ref = this.#refs.named(pinOf(chain[i]));
        if (!ref) {
          const below = parent;
          await this.#flight.do(chain[i], () => this.#unpackOne(layers[i], diffIds[i], below, chain[i], opts));
          ref = this.#refs.named(pinOf(chain[i]));
          if (!ref) throw new GantryError("Unavailable", `Layer ${layers[i].digest} was pruned while it was being unpacked; build again.`);
        }
        await parent?.release();
        parent = ref;
        await this.#noteOrigin(ref, layers[i], diffIds[i]);
      }
    } catch (err) {
      await parent?.release();
      throw err;
    }
    return parent;
  }

  /**
   * Records the blob `ref`'s own layer came from (kept if already there, also for layers unpacked before
   * origins were recorded). Only plain tar layers qualify: foreign or non-distributable blobs are not ours
   * to hand out.
   */
  async #noteOrigin(ref: ImmutableRef, layer: Descriptor, diffId: Digest): Promise<void> {
    if (!this.#origins || !REUSABLE_LAYER_TYPES.has(layer.mediaType)) return;
    const dirs = await this.#refs.layers(ref);
    const own = dirs[dirs.length - 1];
    if (own === undefined) return;
    await this.#origins.record(own.path, { mediaType: layer.mediaType, digest: layer.digest, size: layer.size, diffId });
  }

  async #unpackOne(layer: Descriptor, diffId: Digest, parent: ImmutableRef | null, chain: Digest, opts: UnpackOptions): Promise<void> {
    const done = this.#refs.named(pinOf(chain));
    if (done) return done.release();
    opts.onLayer?.(layer.digest, false);
    const mutable = await this.#refs.newMutable(parent, { signal: opts.signal });
    try {
      const got = await this.#apply(mutable, layer, opts.signal);
      if (got !== diffId) {
        throw new GantryError("FailedPrecondition", `Layer ${layer.digest} unpacks to ${got}, but the image config says ${diffId}.`);
      }
    } catch (err) {
      await mutable.release();
      throw err;
    }
    // Committed before pinned: a kill in between leaves a record nothing retains, which the next start removes.
    const ref = await mutable.commit({ description: opts.description ?? `pulled layer ${layer.digest}` });
    try {
      await this.#refs.setNamed(pinOf(chain), ref);
    } finally {
      await ref.release();
    }
    opts.onLayer?.(layer.digest, true);
  }

  async #apply(mutable: MutableRef, layer: Descriptor, signal?: AbortSignal): Promise<Digest> {
    const stream = (await this.#content.reader(layer.digest, { signal })).pipe(decompressStream(layer.mediaType, { signal }));
    const mounts = await mutable.mounts();
    const direct = layerDirOf(mounts, this.#kind);
    if (direct) return (await applyLayer(stream, direct, { signal })).diffId;
    // A full-copy snapshot: unpack beside it, then apply the layer as a union mount would show it.
    const work = await mkdtemp(join(this.#tmp, "layer-"));
    const target = join(work, "target");
    const layerDir = join(work, "layer");
    try {
      await Promise.all([mkdir(target), mkdir(layerDir)]);
      const applied = await applyLayer(stream, layerDir, { signal });
      await mountAll(mounts, target);
      try {
        await applyLayerDir(layerDir, target, { signal });
      } finally {
        await unmountAll(target);
      }
      return applied.diffId;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Nothing to let go: the pins live in the metadata database. */
  async close(): Promise<void> {}
}

const REUSABLE_LAYER_TYPES = new Set<string>([
  MediaType.ociLayer, MediaType.ociLayerGzip, MediaType.ociLayerZstd, MediaType.dockerLayer, MediaType.dockerLayerGzip,
]);

/** The directory that holds only this snapshot's own changes, when the mechanism has one. */
function layerDirOf(mounts: readonly Mount[], kind: "overlay" | "copy"): string | undefined {
  if (kind !== "overlay" || mounts.length !== 1) return undefined;
  const m = mounts[0];
  if (m.type === "overlay") return m.options.find((o) => o.startsWith("upperdir="))?.slice("upperdir=".length);
  if (m.type === "bind") return m.source;
  return undefined;
}
