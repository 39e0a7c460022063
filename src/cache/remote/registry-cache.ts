// `type=registry` caches: the cache manifest pushed to and pulled from a repository tag, with the same auth
// and plain-http rules as image pushes. On import, a tag that names an ordinary image is read for an
// inline cache instead (`--import-cache type=registry,ref=<image>` after `--export-cache type=inline`).
import type { ContentProvider, ContentStore } from "../../content/content-store.js";
import { MediaType } from "../../oci/media-types.js";
import type { Reference } from "../../oci/reference.js";
import type { Descriptor } from "../../oci/types.js";
import { bodyChunks } from "../../registry/body-chunks.js";
import { pushImage } from "../../registry/image-pusher.js";
import { readSmallBody } from "../../registry/read-small-body.js";
import type { RegistryClient } from "../../registry/registry-client.js";
import { Resolver } from "../../registry/resolver.js";
import { sha256, type Digest } from "../../util/digest.js";
import { GantryError } from "../../util/errors.js";
import { parseCacheChains, parseCacheConfigJson } from "./cache-config.js";
import { parseCacheDocument, type CacheDocuments } from "./cache-manifest.js";
import { inlineCacheChains } from "./inline-cache.js";
import { importedCache, type ImportedCache } from "./remote-cache.js";

const ACCEPT = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifestList, MediaType.dockerManifest].join(", ");
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** Pushes the cache's blobs, config and manifest to `ref` (its tag). Errors are the pusher's RegistryErrors. */
export async function pushRegistryCache(client: RegistryClient, ref: Reference, docs: CacheDocuments,
  store: ContentProvider & Partial<Pick<ContentStore, "update">>, signal?: AbortSignal): Promise<void> {
  await pushImage(client, { names: [ref], manifest: docs.manifest, config: docs.config, layers: docs.layers, contentStore: store, signal });
}

/**
 * Opens the cache at `ref`: a cache manifest or index, or an image carrying an inline cache. Errors: NotFound
 * when the tag does not exist, FailedPrecondition for refused auth or invalid documents, Unavailable.
 */
export async function openRegistryCache(client: RegistryClient, ref: Reference, signal?: AbortSignal): Promise<ImportedCache> {
  const name = `registry:${ref.toString()}`;
  const action = `import cache from ${ref.toString()}`;
  const res = await client.requestOk({ ref, path: `manifests/${ref.digest ?? ref.tag ?? "latest"}`, headers: { Accept: ACCEPT }, action, signal });
  const bytes = await readSmallBody(res, { limit: MAX_DOCUMENT_BYTES, action, host: ref.registry, signal });
  const doc = parseCacheDocument(bytes, res.headers.get("content-type")?.split(";")[0], name);
  const fetch = (desc: Descriptor, store: ContentStore, sig?: AbortSignal): Promise<void> => fetchBlob(client, ref, desc, store, sig);
  if (!doc) {
    // Not a cache manifest: an image whose config may hold an inline cache.
    const image = await new Resolver({ client }).resolve(ref, { signal });
    const config = JSON.parse(image.raw.config.toString("utf8")) as Record<string, unknown>;
    return importedCache(name, inlineCacheChains(config, image.manifest.layers, image.config.rootfs.diff_ids, name), fetch);
  }
  const configBytes = await smallBlob(client, ref, doc.config, action, signal);
  const chains = parseCacheChains(parseCacheConfigJson(configBytes, name), doc.blobs, name);
  return importedCache(name, chains, fetch);
}

async function smallBlob(client: RegistryClient, ref: Reference, desc: Descriptor, action: string, signal?: AbortSignal): Promise<Buffer> {
  const res = await client.requestOk({ ref, path: `blobs/${desc.digest}`, action, signal });
  const bytes = await readSmallBody(res, { limit: MAX_DOCUMENT_BYTES, action, host: ref.registry, signal });
  if (sha256(bytes) !== desc.digest) {
    throw new GantryError("FailedPrecondition", `Cannot ${action}: the cache config ${desc.digest} arrived with digest ${sha256(bytes)}.`);
  }
  return bytes;
}

async function fetchBlob(client: RegistryClient, ref: Reference, desc: Descriptor, store: ContentStore, signal?: AbortSignal): Promise<void> {
  const action = `pull cache layer ${desc.digest} from ${ref.name}`;
  const res = await client.requestOk({ ref, path: `blobs/${desc.digest}`, action, signal });
  const body = res.body ? bodyChunks(res.body, signal) : (async function* () { /* no body: the size check fails */ })();
  await store.ingest(body, { expected: desc.digest as Digest, size: desc.size, signal });
}
