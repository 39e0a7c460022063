// The document that carries a remote cache: an OCI image manifest whose config is the cache config and
// whose layers are the blobs (upstream's default, `image-manifest=true`), or an index listing the blobs and
// the config (`image-manifest=false`). Writing it into a content store, and reading either form back.
import type { ContentIngester } from "../../content/content-store.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../../oci/media-types.js";
import type { Descriptor, Index, Manifest } from "../../oci/types.js";
import { sha256 } from "../../util/digest.js";
import { GantryError } from "../../util/errors.js";
import { blobDescriptor, CACHE_CONFIG_MEDIA_TYPE, type CacheConfig, type ExportBlob } from "./cache-config.js";

/** What an export writes: the top document, the config and the layer blobs (already in the store). */
export interface CacheDocuments {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

/** Stores the config blob and the manifest (or index) that lists it with `blobs`; returns their descriptors. */
export async function storeCacheDocuments(store: Pick<ContentIngester, "putBlob">, config: CacheConfig,
  blobs: readonly ExportBlob[], opts: { imageManifest: boolean; ociTypes: boolean }): Promise<CacheDocuments> {
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: sha256(configBytes), size: configBytes.length };
  await store.putBlob(configBytes, configDesc.digest);
  const layers = blobs.map(blobDescriptor);
  let doc: Manifest | Index;
  let mediaType: string;
  if (opts.imageManifest) {
    mediaType = MediaType.ociManifest;
    doc = { schemaVersion: 2, mediaType, config: configDesc, layers };
  } else {
    mediaType = opts.ociTypes ? MediaType.ociIndex : MediaType.dockerManifestList;
    doc = { schemaVersion: 2, mediaType, manifests: [...layers, configDesc] };
  }
  const bytes = Buffer.from(JSON.stringify(doc));
  const manifest: Descriptor = { mediaType, digest: sha256(bytes), size: bytes.length };
  await store.putBlob(bytes, manifest.digest);
  return { manifest, config: configDesc, layers };
}

/** A parsed cache document: its config descriptor and the blobs it lists, by digest. */
export interface ParsedCacheDocument {
  config: Descriptor;
  blobs: Map<string, Descriptor>;
}

/**
 * Reads a cache manifest or index. Returns undefined for a document that is not a cache (an image: the
 * caller may look for an inline cache in it); FailedPrecondition naming `source` for malformed JSON.
 */
export function parseCacheDocument(bytes: Uint8Array, mediaType: string | undefined, source: string): ParsedCacheDocument | undefined {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new GantryError("FailedPrecondition", `Invalid cache manifest in ${source}: it is not JSON.`, { cause: err });
  }
  if (v === null || typeof v !== "object") throw new GantryError("FailedPrecondition", `Invalid cache manifest in ${source}: not an object.`);
  const doc = v as Partial<Manifest> & Partial<Index>;
  const mt = doc.mediaType ?? mediaType ?? "";
  const blobs = new Map<string, Descriptor>();
  if (isIndexMediaType(mt) || (!mt && Array.isArray(doc.manifests))) {
    const entries = Array.isArray(doc.manifests) ? doc.manifests : [];
    const config = entries.find((m) => m.mediaType === CACHE_CONFIG_MEDIA_TYPE);
    if (!config) return undefined;
    for (const m of entries) if (m !== config) blobs.set(m.digest, m);
    return { config, blobs };
  }
  if (isManifestMediaType(mt) || (!mt && doc.config)) {
    if (doc.config?.mediaType !== CACHE_CONFIG_MEDIA_TYPE) return undefined;
    for (const l of Array.isArray(doc.layers) ? doc.layers : []) blobs.set(l.digest, l);
    return { config: doc.config, blobs };
  }
  throw new GantryError("FailedPrecondition", `Invalid cache manifest in ${source}: unknown media type "${mt}".`);
}
