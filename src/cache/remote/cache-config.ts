// BuildKit's remote cache config (v0): `layers` (blobs, each naming its parent layer) and `records` (a
// cache key, links to the records of its inputs, and results as the top layer of a chain). Building it
// from solved records on export, and turning it back into "key → layer chain" on import.
import type { Descriptor } from "../../oci/types.js";
import type { Digest } from "../../util/digest.js";
import { GantryError } from "../../util/errors.js";

/** Media type of the config blob of a cache manifest. */
export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.buildkit.cacheconfig.v0";
/** Image config key under which the inline cache (records only, base64 JSON) travels. */
export const INLINE_CACHE_CONFIG_KEY = "moby.buildkit.cache.v0";
/** containerd's annotation/label with a compressed blob's uncompressed digest (the diffID). */
export const UNCOMPRESSED_ANNOTATION = "containerd.io/uncompressed";

export interface CacheLayerAnnotations {
  mediaType?: string;
  diffID?: string;
  size?: number;
  createdAt?: string;
}

/** One blob; `parent` is the index of the layer below it, -1 for a bottom layer (Go omits 0). */
export interface CacheLayer {
  blob?: string;
  parent?: number;
  annotations?: CacheLayerAnnotations;
}

export interface CacheInput {
  selector?: string;
  link: number;
}

export interface CacheRecord {
  /** Results: the index of the top layer of each result's chain. */
  layers?: { layer: number; createdAt: string }[];
  /** Results given as explicit layer lists (the inline cache uses these when a chain is not a prefix). */
  chains?: { layers: number[]; createdAt: string }[];
  digest?: string;
  /** Per input of the op: the records that input may be (one each for Gantry). */
  inputs?: CacheInput[][];
}

export interface CacheConfig {
  layers?: CacheLayer[];
  records?: CacheRecord[];
}

/** A layer blob as export knows it. */
export interface ExportBlob {
  digest: Digest;
  size: number;
  mediaType: string;
  diffId: Digest;
  createdAt?: Date;
}

/** One cache key to export: the input keys it was made from, and the result's layers (none: no result). */
export interface ExportRecord {
  key: string;
  deps: { key: string; selector?: string }[];
  chain?: ExportBlob[];
  createdAt: Date;
}

/** A result found in an imported cache: its layer blobs bottom → top with their diffIDs. */
export interface ImportedChain {
  layers: Descriptor[];
  diffIds: Digest[];
}

/**
 * The config for `records` and the distinct blobs it names, in layer order. Chains in `first` get their
 * layers first, so a chain given there has indexes 0…n-1 (the inline cache relies on this).
 */
export function buildCacheConfig(records: readonly ExportRecord[], first: readonly ExportBlob[] = []):
  { config: CacheConfig; blobs: ExportBlob[] } {
  const layers: CacheLayer[] = [];
  const blobs = new Map<string, ExportBlob>();
  const layerIndex = new Map<string, number>();
  const addChain = (chain: readonly ExportBlob[]): number => {
    let parent = -1;
    for (const b of chain) {
      const id = `${b.digest}@${parent}`;
      let idx = layerIndex.get(id);
      if (idx === undefined) {
        idx = layers.length;
        layers.push(layerJson(b, parent));
        layerIndex.set(id, idx);
        if (!blobs.has(b.digest)) blobs.set(b.digest, b);
      }
      parent = idx;
    }
    return parent;
  };
  addChain(first);
  const out = recordsOf(records, (r) => (r.chain && r.chain.length > 0
    ? [{ layer: addChain(r.chain), createdAt: r.createdAt.toISOString() }] : undefined));
  return { config: { layers, records: out }, blobs: [...blobs.values()] };
}

/**
 * The inline cache's records: results name image layers by position, so a result whose chain is the first
 * `depth` layers of the image is `layer: depth - 1`. Records with depth 0 carry no result.
 */
export function buildInlineRecords(records: readonly (Omit<ExportRecord, "chain"> & { depth: number })[]): CacheRecord[] {
  return recordsOf(records, (r) => (r.depth > 0 ? [{ layer: r.depth - 1, createdAt: r.createdAt.toISOString() }] : undefined));
}

/** Records for every key and every input key (inputs link by index); `resultOf` gives a key's results. */
function recordsOf<T extends Omit<ExportRecord, "chain">>(records: readonly T[],
  resultOf: (r: T) => CacheRecord["layers"]): CacheRecord[] {
  const recordIndex = new Map<string, number>();
  const out: CacheRecord[] = [];
  const indexOf = (key: string): number => {
    let i = recordIndex.get(key);
    if (i === undefined) {
      i = out.length;
      out.push({ digest: key });
      recordIndex.set(key, i);
    }
    return i;
  };
  for (const r of records) indexOf(r.key);
  for (const r of records) {
    const rec = out[indexOf(r.key)];
    if (r.deps.length > 0 && !rec.inputs) {
      rec.inputs = r.deps.map((d) => [d.selector ? { selector: d.selector, link: indexOf(d.key) } : { link: indexOf(d.key) }]);
    }
    if (!rec.layers) {
      const results = resultOf(r);
      if (results) rec.layers = results;
    }
  }
  return out;
}

function layerJson(b: ExportBlob, parent: number): CacheLayer {
  const annotations: CacheLayerAnnotations = { mediaType: b.mediaType, diffID: b.diffId, size: b.size,
    createdAt: (b.createdAt ?? new Date(0)).toISOString() };
  return parent === 0 ? { blob: b.digest, annotations } : { blob: b.digest, parent, annotations };
}

/** A config's layer as a descriptor with its diffID annotation, for a manifest's `layers`. */
export function blobDescriptor(b: ExportBlob): Descriptor {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size, annotations: { [UNCOMPRESSED_ANNOTATION]: b.diffId } };
}

/**
 * Key → chain for every record with a usable result. `blobs` are the descriptors the manifest lists (by
 * digest); a result whose blobs are not all listed, or have no known diffID, is left out (upstream skips
 * such results too). FailedPrecondition naming `source` for indexes out of range or loops.
 */
export function parseCacheChains(config: CacheConfig, blobs: ReadonlyMap<string, Descriptor>, source: string):
  Map<string, ImportedChain> {
  const layers = config.layers ?? [];
  const bad = (why: string): GantryError => new GantryError("FailedPrecondition", `Invalid cache config in ${source}: ${why}.`);
  const chainOf = (top: number): number[] => {
    const out: number[] = [];
    for (let i = top; i !== -1; i = layers[i].parent ?? 0) {
      if (!Number.isInteger(i) || i < 0 || i >= layers.length) throw bad(`layer index ${i} is out of range`);
      if (out.includes(i)) throw bad(`layer ${i} is its own ancestor`);
      out.push(i);
    }
    return out.reverse();
  };
  const toChain = (indexes: number[]): ImportedChain | undefined => {
    const chain: ImportedChain = { layers: [], diffIds: [] };
    for (const i of indexes) {
      if (!Number.isInteger(i) || i < 0 || i >= layers.length) throw bad(`layer index ${i} is out of range`);
      const l = layers[i];
      const desc = l.blob === undefined ? undefined : blobs.get(l.blob);
      const diffId = desc?.annotations?.[UNCOMPRESSED_ANNOTATION] ?? l.annotations?.diffID;
      if (!desc || !diffId) return undefined;
      chain.layers.push(desc);
      chain.diffIds.push(diffId as Digest);
    }
    return chain;
  };
  const out = new Map<string, ImportedChain>();
  for (const rec of config.records ?? []) {
    if (!rec.digest || out.has(rec.digest)) continue;
    const candidates = [...(rec.layers ?? []).map((r) => chainOf(r.layer)), ...(rec.chains ?? []).map((c) => c.layers)];
    for (const indexes of candidates) {
      const chain = toChain(indexes);
      if (chain) {
        out.set(rec.digest, chain);
        break;
      }
    }
  }
  return out;
}

/** Parses config JSON, checking only the shape this code reads. FailedPrecondition naming `source`. */
export function parseCacheConfigJson(bytes: Uint8Array, source: string): CacheConfig {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new GantryError("FailedPrecondition", `Invalid cache config in ${source}: it is not JSON.`, { cause: err });
  }
  const c = v as CacheConfig;
  if (v === null || typeof v !== "object" || (c.layers !== undefined && !Array.isArray(c.layers)) ||
    (c.records !== undefined && !Array.isArray(c.records))) {
    throw new GantryError("FailedPrecondition", `Invalid cache config in ${source}: layers and records must be lists.`);
  }
  return c;
}
