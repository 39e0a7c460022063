// Resolves an image reference to its platform manifest and config: fetches the manifest (an index is
// narrowed to the wanted platform), checks the digest of every document against what pointed at it, and
// keeps the raw bytes in the content store so exporters can reuse them byte for byte.
import type { ContentStore } from "../content/content-store.js";
import { MediaType, isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import { formatPlatform, hostPlatform, platformMatches } from "../oci/platform.js";
import { parseReference, withDigest, type Reference } from "../oci/reference.js";
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from "../oci/types.js";
import { sha256, type Digest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import { checkDescriptor, checkImageConfig, checkIndex, checkManifest, manifestMediaType, parseJsonObject } from "./manifest-parse.js";
import { readSmallBody } from "./read-small-body.js";
import type { RegistryClient } from "./registry-client.js";

const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest].join(", ");
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const MAX_INDEX_DEPTH = 3;

/** An image narrowed to one platform, with everything needed to pull and unpack it. */
export interface ResolvedImage {
  /** The reference pinned to `digest`, keeping its tag. */
  ref: Reference;
  /** `ref.toString()`: `docker.io/library/busybox:latest@sha256:…` (what the Dockerfile frontend prints). */
  name: string;
  /** The digest the tag pointed at: the index for multi-platform images, else the manifest. */
  digest: Digest;
  /** The top-level index, when the tag named one. */
  indexDescriptor?: Descriptor;
  /** The platform's manifest. */
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
  /** The documents as the registry sent them (their digests are the ones above). */
  raw: { index?: Buffer; manifest: Buffer; config: Buffer };
}

export interface ResolveOptions {
  /** The platform to pick from an index; default the host's. */
  platform?: Platform;
  signal?: AbortSignal;
}

export interface ResolverOptions {
  client: RegistryClient;
  /** When given, index, manifest and config blobs are stored here as they are resolved. */
  contentStore?: ContentStore;
}

interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  body: Record<string, unknown>;
}

/** Resolves references against registries through one `RegistryClient`. */
export class Resolver {
  readonly #client: RegistryClient;
  readonly #store?: ContentStore;

  constructor(opts: ResolverOptions) {
    this.#client = opts.client;
    this.#store = opts.contentStore;
  }

  /**
   * Resolves `input` for `opts.platform`. Errors: InvalidArgument (bad reference), NotFound (unknown
   * repository, tag or digest, or no manifest for the platform: "Cannot resolve image X: not found…"),
   * FailedPrecondition (authentication refused, digest or size mismatch, invalid documents), Unavailable
   * (registry unreachable), Canceled.
   */
  async resolve(input: Reference | string, opts: ResolveOptions = {}): Promise<ResolvedImage> {
    const ref = typeof input === "string" ? parseReference(input) : input;
    const action = `resolve image ${ref.toString()}`;
    const want = opts.platform ?? hostPlatform();
    const top = await this.#fetchManifest(ref, { action, signal: opts.signal });
    let current = top;
    for (let depth = 0; isIndexMediaType(current.descriptor.mediaType); depth++) {
      if (depth >= MAX_INDEX_DEPTH) throw new GantryError("FailedPrecondition", `Cannot ${action}: indexes nest too deep.`);
      const child = pickPlatform(checkIndex(current.body, action), want, action);
      current = await this.#fetchManifest(ref, { action, signal: opts.signal, expected: child });
    }
    const manifest = checkManifest(current.body, action);
    const configDescriptor = manifest.config;
    const configBytes = await this.#fetchBlob(ref, configDescriptor, { action, signal: opts.signal, what: "config" });
    const config = checkImageConfig(parseJsonObject(configBytes, action, "image config"), manifest, action);
    const isIndex = top !== current;
    const resolved: ResolvedImage = {
      ref: withDigest(ref, top.descriptor.digest),
      name: withDigest(ref, top.descriptor.digest).toString(),
      digest: top.descriptor.digest,
      ...(isIndex ? { indexDescriptor: top.descriptor } : {}),
      manifestDescriptor: current.descriptor,
      manifest,
      configDescriptor,
      config,
      raw: { ...(isIndex ? { index: top.bytes } : {}), manifest: current.bytes, config: configBytes },
    };
    await this.#store?.putBlob(configBytes, configDescriptor.digest);
    await this.#store?.putBlob(current.bytes, current.descriptor.digest);
    if (isIndex) await this.#store?.putBlob(top.bytes, top.descriptor.digest);
    return resolved;
  }

  /** Fetches a manifest or index by the ref's tag/digest, or by `expected`'s digest, and checks it. */
  async #fetchManifest(ref: Reference, opts: { action: string; signal?: AbortSignal; expected?: Descriptor }): Promise<FetchedManifest> {
    const { action, signal, expected } = opts;
    const wantDigest = expected?.digest ?? ref.digest;
    const res = await this.#client.requestOk({ ref, path: `manifests/${wantDigest ?? ref.tag ?? "latest"}`,
      headers: { Accept: MANIFEST_ACCEPT }, action, signal });
    const bytes = await readSmallBody(res, { limit: MAX_MANIFEST_BYTES, action, host: ref.registry, signal });
    const digest = sha256(bytes);
    const mismatch = (why: string): never => {
      throw new GantryError("FailedPrecondition", `Cannot ${action}: ${why}.`);
    };
    if (wantDigest && digest !== wantDigest) mismatch(`the registry sent a manifest with digest ${digest} for ${wantDigest}`);
    const announced = res.headers.get("docker-content-digest");
    if (announced && announced.startsWith("sha256:") && announced !== digest) {
      mismatch(`the manifest has digest ${digest} but the registry announced ${announced}`);
    }
    if (expected && expected.size !== bytes.length) mismatch(`manifest ${digest} has ${bytes.length} bytes, not ${expected.size}`);
    const body = parseJsonObject(bytes, action, "manifest");
    const mediaType = manifestMediaType(res.headers.get("content-type"), body, action);
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, body };
  }

  async #fetchBlob(ref: Reference, desc: Descriptor, opts: { action: string; what: string; signal?: AbortSignal }): Promise<Buffer> {
    const { action, signal } = opts;
    checkDescriptor(desc, action, `the ${opts.what} descriptor`);
    // A blob is its digest: one stored by an earlier pull or resolve needs no round trip (readBlob verifies it).
    const stored = await this.#store?.readBlob(desc.digest).catch(() => undefined);
    if (stored !== undefined && stored.length === desc.size) return stored;
    const res = await this.#client.requestOk({ ref, path: `blobs/${desc.digest}`, action, signal });
    const bytes = await readSmallBody(res, { limit: MAX_CONFIG_BYTES, action, host: ref.registry, signal });
    const digest = sha256(bytes);
    if (bytes.length !== desc.size || digest !== desc.digest) {
      throw new GantryError("FailedPrecondition",
        `Cannot ${action}: the ${opts.what} blob ${desc.digest} arrived as ${bytes.length} bytes with digest ${digest} (expected ${desc.size} bytes).`);
    }
    return bytes;
  }
}

/** The first index entry for `want`, skipping entries without a platform (attestations, artifacts). */
function pickPlatform(index: Index, want: Platform, action: string): Descriptor {
  const usable = index.manifests.filter((m) => isManifestMediaType(m.mediaType) || isIndexMediaType(m.mediaType));
  const match = usable.find((m) => m.platform !== undefined && platformMatches(want, m.platform));
  if (match) return match;
  const have = usable.filter((m) => m.platform && m.platform.os !== "unknown").map((m) => formatPlatform(m.platform as Platform));
  throw new GantryError("NotFound",
    `Cannot ${action}: no manifest for platform ${formatPlatform(want)} (the image has ${have.length ? have.join(", ") : "no platforms"}).`);
}

