// `type=local` caches: an OCI image layout directory whose index.json names the cache manifest by tag
// (`org.opencontainers.image.ref.name`, default `latest`), as buildctl writes and reads it.
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ContentProvider, ContentStore } from "../../content/content-store.js";
import { REF_NAME_ANNOTATION, writeImageLayoutDir } from "../../oci/image-layout.js";
import type { Descriptor, Index } from "../../oci/types.js";
import { atomicWrite } from "../../util/atomic-write.js";
import { digestHex, sha256 } from "../../util/digest.js";
import { errnoOf, GantryError } from "../../util/errors.js";
import { parseCacheChains, parseCacheConfigJson } from "./cache-config.js";
import type { CacheDocuments } from "./cache-manifest.js";
import { parseCacheDocument } from "./cache-manifest.js";
import { importedCache, type ImportedCache } from "./remote-cache.js";

/** The largest manifest or config read whole. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Copies the documents and blobs from `store` into layout `dir` and points `tag` at the manifest,
 * replacing an older entry of the same tag. Errors name the directory.
 */
export async function writeLocalCache(dir: string, tag: string, docs: CacheDocuments,
  store: Pick<ContentProvider, "readBlob" | "reader">, signal?: AbortSignal): Promise<void> {
  const entry: Descriptor = { ...docs.manifest, annotations: { [REF_NAME_ANNOTATION]: tag } };
  try {
    await writeImageLayoutDir(dir, { provider: store, manifests: [entry], signal });
    const indexPath = join(dir, "index.json");
    const index = JSON.parse(await readFile(indexPath, "utf8")) as Index;
    const kept = index.manifests.filter((m) => m === index.manifests.at(-1) || m.annotations?.[REF_NAME_ANNOTATION] !== tag);
    if (kept.length !== index.manifests.length) await atomicWrite(indexPath, JSON.stringify({ ...index, manifests: kept }));
  } catch (err) {
    if (err instanceof GantryError) throw err;
    throw new GantryError("FailedPrecondition", `Cannot export the cache to directory ${dir}: ${errnoOf(err) ?? String(err)}.`, { cause: err });
  }
}

/**
 * Opens the cache in layout `dir`: the manifest named by `digest`, else the index.json entry tagged `tag`.
 * NotFound when the directory, its index or the tag is missing; FailedPrecondition for invalid content.
 */
export async function openLocalCache(dir: string, opts: { tag: string; digest?: string }): Promise<ImportedCache> {
  const name = `local:${dir}`;
  const index = await readDocument<Index>(join(dir, "index.json"), name);
  let desc: Descriptor | undefined;
  if (opts.digest) desc = index.manifests?.find((m) => m.digest === opts.digest) ?? { mediaType: "", digest: opts.digest as Descriptor["digest"], size: 0 };
  else desc = [...(index.manifests ?? [])].reverse().find((m) => m.annotations?.[REF_NAME_ANNOTATION] === opts.tag);
  if (!desc) throw new GantryError("NotFound", `Cannot import the cache from ${dir}: its index.json has no entry tagged "${opts.tag}".`);
  const bytes = await readBlobFile(dir, desc, name);
  const doc = parseCacheDocument(bytes, desc.mediaType || undefined, name);
  if (!doc) throw new GantryError("FailedPrecondition", `Cannot import the cache from ${dir}: manifest ${desc.digest} is not a cache manifest.`);
  const config = parseCacheConfigJson(await readBlobFile(dir, doc.config, name), name);
  const chains = parseCacheChains(config, doc.blobs, name);
  return importedCache(name, chains, async (blob: Descriptor, store: ContentStore, signal?: AbortSignal) => {
    const path = join(dir, "blobs", "sha256", digestHex(blob.digest));
    try {
      await store.ingest(createReadStream(path, { signal }), { expected: blob.digest, size: blob.size, signal });
    } catch (err) {
      if (errnoOf(err) === "ENOENT") throw new GantryError("NotFound", `Cannot import blob ${blob.digest} from the cache in ${dir}: the file is missing.`);
      throw err;
    }
  });
}

async function readBlobFile(dir: string, desc: Descriptor, name: string): Promise<Buffer> {
  const path = join(dir, "blobs", "sha256", digestHex(desc.digest));
  const bytes = await readFileOrNotFound(path, name);
  if (bytes.length > MAX_DOCUMENT_BYTES || sha256(bytes) !== desc.digest) {
    throw new GantryError("FailedPrecondition", `Cannot import the cache from ${name}: blob ${desc.digest} does not match its digest.`);
  }
  return bytes;
}

async function readDocument<T>(path: string, name: string): Promise<T> {
  const bytes = await readFileOrNotFound(path, name);
  try {
    return JSON.parse(bytes.toString("utf8")) as T;
  } catch (err) {
    throw new GantryError("FailedPrecondition", `Cannot import the cache from ${name}: ${path} is not JSON.`, { cause: err });
  }
}

async function readFileOrNotFound(path: string, name: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    if (errnoOf(err) === "ENOENT") throw new GantryError("NotFound", `Cannot import the cache from ${name}: ${path} does not exist.`);
    throw err;
  }
}
