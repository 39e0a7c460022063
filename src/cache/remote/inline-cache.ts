// The inline cache: the records of a min-mode export travel inside the image config (base64 JSON under
// `moby.buildkit.cache.v0`); their results name the image's own layers by position.
import type { Descriptor } from "../../oci/types.js";
import type { Digest } from "../../util/digest.js";
import { GantryError } from "../../util/errors.js";
import {
  INLINE_CACHE_CONFIG_KEY, parseCacheChains, UNCOMPRESSED_ANNOTATION, type CacheRecord, type ImportedChain,
} from "./cache-config.js";

/** The value to put under `moby.buildkit.cache.v0` in an image config (Go marshals []byte as base64). */
export function inlineCacheValue(records: readonly CacheRecord[]): string {
  return Buffer.from(JSON.stringify(records)).toString("base64");
}

/**
 * Key → chain from an image's config and layers; an empty map when the config has no inline cache.
 * FailedPrecondition naming `source` when the value is not base64 JSON records.
 */
export function inlineCacheChains(config: Record<string, unknown>, layers: readonly Descriptor[], diffIds: readonly Digest[],
  source: string): Map<string, ImportedChain> {
  const value = config[INLINE_CACHE_CONFIG_KEY];
  if (value === undefined || value === null || value === "") return new Map();
  let records: unknown;
  try {
    records = typeof value === "string" ? JSON.parse(Buffer.from(value, "base64").toString("utf8")) : undefined;
  } catch (err) {
    throw new GantryError("FailedPrecondition", `Invalid inline cache in ${source}: it is not base64 JSON.`, { cause: err });
  }
  if (!Array.isArray(records)) throw new GantryError("FailedPrecondition", `Invalid inline cache in ${source}: records must be a list.`);
  // The image's layers form one chain: layer i sits on layer i-1.
  const blobs = new Map<string, Descriptor>();
  const cacheLayers = layers.map((l, i) => {
    const diffId = diffIds[i];
    if (diffId) blobs.set(l.digest, { ...l, annotations: { ...l.annotations, [UNCOMPRESSED_ANNOTATION]: diffId } });
    return { blob: l.digest, parent: i - 1 };
  });
  return parseCacheChains({ layers: cacheLayers, records: records as CacheRecord[] }, blobs, source);
}
