// Pushes an image held in a content store to one or more names: for each target repository, its blobs
// (config and layers) go first, a few at a time, each skipped, mounted or uploaded (`blob-upload.ts`);
// the manifest goes last, so a registry never holds a manifest whose blobs are missing; for a multi-platform
// image, each platform's manifest goes by digest before the index that names them. The first failure
// stops everything still to come: a refused login pushes nothing further.
import type { ContentProvider, ContentStore } from "../content/content-store.js";
import type { Reference } from "../oci/reference.js";
import type { Descriptor } from "../oci/types.js";
import type { Digest } from "../util/digest.js";
import { canceledError } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";
import { pushBlob, type BlobOutcome } from "./blob-upload.js";
import { knownSources, noteSource } from "./distribution-source.js";
import { discard } from "./http-retry.js";
import type { RegistryClient } from "./registry-client.js";
import { registryErrorFromResponse } from "./registry-error.js";

export type PushProgress =
  | { kind: "blob"; digest: Digest; outcome: BlobOutcome; target: string }
  | { kind: "manifest"; target: string };

/** One image's manifest and the blobs it names. */
export interface PushedManifest {
  manifest: Descriptor;
  config: Descriptor;
  layers: readonly Descriptor[];
}

export interface PushImageOptions {
  /** Where to push; each name's tag is set, or with `byDigest` only the digest is pushed. */
  names: readonly Reference[];
  /** The manifest the names point at; with `children`, the index over them. */
  manifest: Descriptor;
  /** Single-platform images: the config and layers; ignored with `children`. */
  config?: Descriptor;
  layers?: readonly Descriptor[];
  /** Multi-platform images: the images of the index `manifest`, pushed (by digest) before it. */
  children?: readonly PushedManifest[];
  /** Holds every blob; with `update`, pushed blobs get distribution-source labels for later mounts. */
  contentStore: ContentProvider & Partial<Pick<ContentStore, "update">>;
  /** Push the manifest by digest only (`push-by-digest`): no tag is set. */
  byDigest?: boolean;
  /** Parallel blob pushes; default 3. */
  concurrency?: number;
  /** Blobs over this size go up in chunks of it (see `pushBlob`). */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Called as each blob and manifest lands; must return quickly. */
  onProgress?: (e: PushProgress) => void;
}

export interface PushResult {
  /** Blob counts over all target repositories. */
  uploaded: number;
  mounted: number;
  existed: number;
}

/**
 * Pushes the image to every name. Errors: RegistryError naming the blob or manifest and the repository
 * (FailedPrecondition for 401/403, with a login hint naming the registry); Canceled on abort. On the first
 * error, blob pushes not yet started are not started and no manifest is pushed.
 */
export async function pushImage(client: RegistryClient, opts: PushImageOptions): Promise<PushResult> {
  const result: PushResult = { uploaded: 0, mounted: 0, existed: 0 };
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const pushed: Reference[] = [];
    for (const target of repositories(opts.names)) {
      const sameRegistry = pushed.filter((p) => p.registry === target.registry).map((p) => p.repository);
      await pushBlobs(client, target, opts, sameRegistry, result, stop);
      for (const child of opts.children ?? []) {
        await pushManifest(client, target, child.manifest, true, opts, stop.signal);
      }
      for (const name of opts.names.filter((n) => n.name === target.name)) {
        await pushManifest(client, name, opts.manifest, opts.byDigest === true || !name.tag, opts, stop.signal);
      }
      pushed.push(target);
    }
    return result;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** One name per distinct repository, in the order given. */
function repositories(names: readonly Reference[]): Reference[] {
  const seen = new Map<string, Reference>();
  for (const n of names) if (!seen.has(n.name)) seen.set(n.name, n);
  return [...seen.values()];
}

async function pushBlobs(client: RegistryClient, target: Reference, opts: PushImageOptions, alsoIn: string[],
  result: PushResult, stop: AbortController): Promise<void> {
  const limiter = new Limiter(opts.concurrency ?? 3);
  const images = opts.children ?? (opts.config ? [{ manifest: opts.manifest, config: opts.config, layers: opts.layers ?? [] }] : []);
  const blobs = images.flatMap((img) => [img.config, ...img.layers]);
  const unique = blobs.filter((b, i) => blobs.findIndex((o) => o.digest === b.digest) === i);
  const runs = unique.map((blob) => limiter.run(async () => {
    if (stop.signal.aborted) throw canceledError(stop.signal);
    const mountFrom = [...alsoIn, ...(await knownSources(opts.contentStore, blob.digest, target.registry))];
    const outcome = await pushBlob({
      client, target, blob, contentStore: opts.contentStore, mountFrom, chunkSize: opts.chunkSize, signal: stop.signal,
    });
    result[outcome === "exists" ? "existed" : outcome]++;
    opts.onProgress?.({ kind: "blob", digest: blob.digest, outcome, target: target.name });
    await noteSource(opts.contentStore, blob.digest, target);
  }, stop.signal).catch((err: unknown) => {
    stop.abort(err);
    throw err;
  }));
  const settled = await Promise.allSettled(runs);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  // The first failure is the cause; the others were only stopped by it.
  if (failed) throw stop.signal.reason instanceof Error ? stop.signal.reason : failed.reason;
}

async function pushManifest(client: RegistryClient, name: Reference, manifest: Descriptor, byDigest: boolean,
  opts: PushImageOptions, signal: AbortSignal): Promise<void> {
  const object = byDigest ? manifest.digest : name.tag as string;
  const action = `push manifest ${manifest.digest} to ${name.name}${byDigest ? "@" : ":"}${object}`;
  const body = await opts.contentStore.readBlob(manifest.digest);
  const res = await client.request({
    ref: name, path: `manifests/${object}`, method: "PUT", actions: ["push", "pull"], action, signal,
    headers: { "Content-Type": manifest.mediaType, "Content-Length": String(body.length) },
    body: () => new Uint8Array(body),
  });
  if (!res.ok) throw await registryErrorFromResponse(res, action, name.registry);
  await discard(res);
  opts.onProgress?.({ kind: "manifest", target: byDigest ? `${name.name}@${manifest.digest}` : name.toString() });
}
