// Multi-platform image export: one image per platform (as a single-platform export makes it), then an
// index over them — an OCI image index, or a Docker manifest list with Docker media types — which is what
// the exporter response, the layout's index.json and a push's tag point at.
import { MediaType } from "../oci/media-types.js";
import { formatPlatform, normalizePlatform } from "../oci/platform.js";
import type { Descriptor, Platform } from "../oci/types.js";
import { sha256 } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import type { ExportOptions, ExportSource } from "./exporter.js";
import { goMarshal, goMarshalIndent } from "./go-json.js";
import { annotationsFor, type ImageAttrs } from "./image-attrs.js";
import { descriptorJson, sortedRecord } from "./image-assembly.js";
import { commitImage, type CommitDeps, type CommittedImage } from "./image-commit.js";
import { Annotation, ResponseKey } from "./keys.js";

export interface CommittedIndex {
  /** The index's descriptor, annotated with its creation time and `annotation-index-descriptor.*`. */
  index: Descriptor;
  /** The images in the index, in the order of the sources. */
  images: CommittedImage[];
}

/** Upstream refuses index annotations when there is no index to put them on. */
export function checkSinglePlatformAttrs(attrs: ImageAttrs): void {
  const keys = [...Object.keys(attrs.indexAnnotations), ...Object.keys(attrs.indexDescriptorAnnotations)];
  if (keys.length > 0) {
    throw new GantryError("InvalidArgument", `Cannot use index annotations (${keys.join(", ")}) for a single-platform export.`);
  }
}

/** Commits each platform's image, then the index over them; every blob lands in the content store. */
export async function commitImageIndex(deps: CommitDeps, attrs: ImageAttrs, sources: readonly ExportSource[],
  opts: ExportOptions): Promise<CommittedIndex> {
  const platforms = sources.map((s) => normalizePlatform(s.platform));
  const seen = new Set<string>();
  for (const p of platforms) {
    const id = formatPlatform(p);
    if (seen.has(id)) throw new GantryError("InvalidArgument", `The result has platform ${id} twice.`);
    seen.add(id);
  }
  // Annotations naming a platform the result lacks are an error, as for single-platform exports.
  annotationsFor(attrs.manifestAnnotations, platforms[0], platforms);
  annotationsFor(attrs.descriptorAnnotations, platforms[0], platforms);
  const images = await Promise.all(sources.map((source, i) => commitImage(deps, onlyFor(attrs, platforms[i]), source, opts)));
  const manifests = images.map((img, i) => childDescriptor(img.manifest, platforms[i], annotationsFor(attrs.descriptorAnnotations, platforms[i], platforms)));
  const mediaType = attrs.ociTypes ? MediaType.ociIndex : MediaType.dockerManifestList;
  const body: Record<string, unknown> = { schemaVersion: 2, mediaType, manifests: manifests.map(descriptorJson) };
  if (Object.keys(attrs.indexAnnotations).length > 0) body.annotations = sortedRecord(attrs.indexAnnotations);
  const json = Buffer.from(goMarshalIndent(body));
  const digest = sha256(json);
  await deps.store.putBlob(json, digest);
  const gc: Record<string, string> = {};
  manifests.forEach((m, i) => (gc[`containerd.io/gc.ref.content.m.${i}`] = m.digest));
  await deps.store.update(digest, gc);
  opts.progress?.statusDone(`exporting manifest list ${digest}`);
  const now = deps.now?.() ?? new Date();
  const created = (attrs.epoch ?? now).toISOString().replace(/\.\d+Z$/, "Z");
  const index: Descriptor = {
    mediaType, digest, size: json.length, annotations: { [Annotation.created]: created, ...attrs.indexDescriptorAnnotations },
  };
  return { index, images };
}

/** The attrs with per-platform annotations narrowed to `platform`, so `commitImage` sees only its own. */
function onlyFor(attrs: ImageAttrs, platform: Platform): ImageAttrs {
  const id = formatPlatform(platform);
  const narrow = (m: Map<string, Record<string, string>>): Map<string, Record<string, string>> =>
    new Map([...m].filter(([p]) => p === "" || p === id));
  return { ...attrs, manifestAnnotations: narrow(attrs.manifestAnnotations), descriptorAnnotations: narrow(attrs.descriptorAnnotations) };
}

/** A manifest's entry in the index: platform and descriptor annotations, not the layout's created stamp. */
function childDescriptor(manifest: Descriptor, platform: Platform, annotations: Record<string, string>): Descriptor {
  const d: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, platform };
  if (Object.keys(annotations).length > 0) d.annotations = annotations;
  return d;
}

/** The exporter response for an index: its digest and descriptor (no single config), and the names. */
export function indexResponse(index: Descriptor, names: readonly string[]): Record<string, string> {
  const response: Record<string, string> = {
    [ResponseKey.imageDigest]: index.digest,
    [ResponseKey.imageDescriptor]: Buffer.from(goMarshal(descriptorJson(index))).toString("base64"),
  };
  if (names.length > 0) response[ResponseKey.imageName] = names.join(",");
  return response;
}
