// Image assembly shared by the image exporters: layer blobs + config → config blob and manifest blob
// in the content store, and the manifest's descriptor as upstream's ImageWriter returns it.
import type { ContentStore } from "../content/content-store.js";
import { layerMediaType } from "../oci/compress.js";
import { MediaType } from "../oci/media-types.js";
import type { Descriptor, Platform } from "../oci/types.js";
import { sha256, type Digest } from "../util/digest.js";
import { goMarshalIndent } from "./go-json.js";
import { buildImageConfig, type LayerHistoryInfo } from "./image-config.js";
import type { LayerBlob } from "./layer-blobs.js";

export interface ImageAssemblyInput {
  /** Layer blobs bottom → top. */
  layers: LayerBlob[];
  /** History facts per layer, aligned with `layers`. */
  layerInfo: LayerHistoryInfo[];
  imageConfig?: Uint8Array;
  platform: Platform;
  /** OCI media types (true) or Docker schema 2 (false). */
  ociTypes: boolean;
  /** Annotations inside the manifest (`annotation.<k>`, `annotation-manifest.<k>`). */
  manifestAnnotations?: Record<string, string>;
  /** Annotations on the manifest's descriptor (`annotation-manifest-descriptor.<k>`). */
  descriptorAnnotations?: Record<string, string>;
  epoch?: Date;
  now: Date;
}

export interface AssembledImage {
  /** The manifest's descriptor, with platform and descriptor annotations. */
  manifest: Descriptor;
  config: Descriptor;
}

/** A descriptor in Go's field order (mediaType, digest, size, annotations, platform), empty parts omitted. */
export function descriptorJson(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls && d.urls.length > 0) out.urls = d.urls;
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = sortedRecord(d.annotations);
  if (d.platform) out.platform = platformJson(d.platform);
  return out;
}

function platformJson(p: Platform): Platform {
  const out: Platform = { architecture: p.architecture, os: p.os };
  if (p["os.version"]) out["os.version"] = p["os.version"];
  if (p["os.features"] && p["os.features"].length > 0) out["os.features"] = p["os.features"];
  if (p.variant) out.variant = p.variant;
  return out;
}

/** Go marshals map[string]string with sorted keys. */
export function sortedRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}

/** The manifest bytes (indented like upstream's) for a config and layers. */
export function buildManifest(config: Descriptor, layers: Descriptor[], ociTypes: boolean,
  annotations?: Record<string, string>): Buffer {
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: ociTypes ? MediaType.ociManifest : MediaType.dockerManifest,
    config: descriptorJson(config),
    layers: layers.map(descriptorJson),
  };
  if (annotations && Object.keys(annotations).length > 0) manifest.annotations = sortedRecord(annotations);
  return Buffer.from(goMarshalIndent(manifest));
}

/**
 * Writes the config and manifest blobs (layers must already be stored) and returns their descriptors.
 * The manifest blob gets containerd-style GC labels pointing at its config and layers.
 */
export async function assembleImage(store: ContentStore, input: ImageAssemblyInput): Promise<AssembledImage> {
  const configJson = buildImageConfig({
    imageConfig: input.imageConfig,
    platform: input.platform,
    diffIds: input.layers.map((l) => l.diffId),
    layerInfo: input.layerInfo,
    epoch: input.epoch,
    now: input.now,
  });
  const config: Descriptor = {
    mediaType: input.ociTypes ? MediaType.ociConfig : MediaType.dockerConfig,
    digest: sha256(configJson),
    size: configJson.length,
  };
  const layers: Descriptor[] = input.layers.map((l) => ({
    mediaType: layerMediaType(l.compression, input.ociTypes),
    digest: l.digest,
    size: l.size,
    ...(l.annotations ? { annotations: l.annotations } : {}),
  }));
  const manifestJson = buildManifest(config, layers, input.ociTypes, input.manifestAnnotations);
  const manifestDigest = sha256(manifestJson);
  await store.putBlob(configJson, config.digest);
  await store.putBlob(manifestJson, manifestDigest);
  await store.update(manifestDigest, gcLabels([config.digest, ...layers.map((l) => l.digest)]));
  const manifest: Descriptor = {
    mediaType: input.ociTypes ? MediaType.ociManifest : MediaType.dockerManifest,
    digest: manifestDigest,
    size: manifestJson.length,
    platform: input.platform,
  };
  if (input.descriptorAnnotations && Object.keys(input.descriptorAnnotations).length > 0) {
    manifest.annotations = { ...input.descriptorAnnotations };
  }
  return { manifest, config };
}

function gcLabels(children: Digest[]): Record<string, string> {
  const labels: Record<string, string> = {};
  children.forEach((d, i) => {
    labels[`containerd.io/gc.ref.content.${i}`] = d;
  });
  return labels;
}
