// The part every image exporter shares: a result's layers → layer blobs, config and manifest in the
// content store (with the progress lines upstream shows), and the exporter response describing them.
import type { ContentStore } from "../content/content-store.js";
import { normalizePlatform } from "../oci/platform.js";
import type { Descriptor } from "../oci/types.js";
import { withStatus } from "./destination.js";
import type { ExportOptions, ExportSource } from "./exporter.js";
import { goMarshal } from "./go-json.js";
import { annotationsFor, type ImageAttrs } from "./image-attrs.js";
import { assembleImage, descriptorJson } from "./image-assembly.js";
import { Annotation, ResponseKey } from "./keys.js";
import type { LayerBlob, LayerBlobCache } from "./layer-blobs.js";

export interface CommitDeps {
  store: ContentStore;
  layerBlobs: LayerBlobCache;
  now?: () => Date;
}

export interface CommittedImage {
  /** The manifest's descriptor, annotated with its creation time (as index.json entries carry it). */
  manifest: Descriptor;
  config: Descriptor;
  layers: LayerBlob[];
}

/** Layer blobs, config and manifest into the content store, reporting `exporting layers/manifest/config`. */
export async function commitImage(deps: CommitDeps, attrs: ImageAttrs, source: ExportSource, opts: ExportOptions): Promise<CommittedImage> {
  const platform = normalizePlatform(source.platform);
  const manifestAnnotations = annotationsFor(attrs.manifestAnnotations, platform);
  const descriptorAnnotations = annotationsFor(attrs.descriptorAnnotations, platform);
  const epochSeconds = attrs.epoch === undefined ? undefined : Math.floor(attrs.epoch.getTime() / 1000);
  const blobs = await withStatus(opts.progress, "exporting layers", () => deps.layerBlobs.blobs(source.layers, {
    compression: attrs.compression,
    estargz: attrs.estargz,
    level: attrs.compressionLevel,
    forceCompression: attrs.forceCompression,
    sourceDateEpoch: attrs.rewriteTimestamp ? epochSeconds : undefined,
    signal: opts.signal,
  }));
  const now = deps.now?.() ?? new Date();
  const image = await assembleImage(deps.store, {
    layers: blobs,
    layerInfo: source.layers.map((l) => ({ description: l.description, createdAt: l.createdAt })),
    imageConfig: source.imageConfig,
    platform,
    ociTypes: attrs.ociTypes,
    manifestAnnotations,
    descriptorAnnotations,
    epoch: attrs.epoch,
    now,
  });
  opts.progress?.statusDone(`exporting manifest ${image.manifest.digest}`);
  opts.progress?.statusDone(`exporting config ${image.config.digest}`);
  const created = (attrs.epoch ?? now).toISOString().replace(/\.\d+Z$/, "Z");
  const annotations = { ...image.manifest.annotations };
  annotations[Annotation.created] ??= created;
  return { manifest: { ...image.manifest, annotations }, config: image.config, layers: blobs };
}

/** The exporter response for an image: digests, the base64 descriptor and (if any) the names. */
export function imageResponse(manifest: Descriptor, configDigest: string, names: readonly string[]): Record<string, string> {
  const response: Record<string, string> = {
    [ResponseKey.imageDigest]: manifest.digest,
    [ResponseKey.imageConfigDigest]: configDigest,
    [ResponseKey.imageDescriptor]: Buffer.from(goMarshal(descriptorJson(manifest))).toString("base64"),
  };
  if (names.length > 0) response[ResponseKey.imageName] = names.join(",");
  return response;
}
