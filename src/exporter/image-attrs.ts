// The attrs of the oci and docker exporters (upstream's ImageCommitOpts plus `tar` and `dest`), parsed
// and checked at resolve time so a bad `--output` fails before the build.
import { checkCompressionLevel } from "../oci/compress.js";
import type { LayerCompression } from "../oci/media-types.js";
import { formatPlatform, parsePlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import { GantryError } from "../util/errors.js";
import { parseBoolAttr, parseEpochAttr, parseIntAttr, unknownAttr } from "./attr-parsers.js";
import { normalizedNames } from "./image-names.js";
import { AttrKey } from "./keys.js";

export interface ImageAttrs {
  names: string[];
  /** The layer compression; `gzip` for estargz, whose blobs are gzip streams with a gzip media type. */
  compression: LayerCompression;
  /** `compression=estargz`: write gzip layers in eStargz layout (src/oci/estargz.ts). */
  estargz: boolean;
  compressionLevel?: number;
  forceCompression: boolean;
  ociTypes: boolean;
  /** `annotation.<k>` / `annotation-manifest.<k>`, by platform ("" = any). */
  manifestAnnotations: Map<string, Record<string, string>>;
  /** `annotation-manifest-descriptor.<k>`, by platform ("" = any). */
  descriptorAnnotations: Map<string, Record<string, string>>;
  /** `annotation-index.<k>`: inside a multi-platform export's index. */
  indexAnnotations: Record<string, string>;
  /** `annotation-index-descriptor.<k>`: on the index's descriptor (index.json entry). */
  indexDescriptorAnnotations: Record<string, string>;
  epoch?: Date;
  rewriteTimestamp: boolean;
  /** Write a tarball (true) or an OCI layout directory (false). */
  tar: boolean;
  /** File, `-` for stdout, or directory when `tar` is false. */
  dest?: string;
  /** The `image` exporter's own attrs; absent for oci/docker. */
  image?: ImageOnlyAttrs;
}

/** Attrs only the `image` exporter takes. */
export interface ImageOnlyAttrs {
  push: boolean;
  pushByDigest: boolean;
  /** `registry.insecure`: push over plain http / unverified TLS. */
  insecure: boolean;
  nameCanonical: boolean;
  danglingNamePrefix?: string;
  /** `store`: keep in the image store (there is none yet: accepted, no effect). */
  store: boolean;
  /** `unpack`: accepted and ignored (no image store to unpack into). */
  unpack: boolean;
}

export type ImageExporterVariant = "oci" | "docker" | "image";

const ANNOTATION_KEY = /^annotation(?:-([a-z-]+))?(?:\[([A-Za-z0-9_/-]+)\])?\.(\S+)$/;
/** Upstream attrs that are accepted and have no effect here (deprecated or attestation-only). */
const IGNORED = new Set<string>([AttrKey.buildInfo, AttrKey.buildInfoAttrs, AttrKey.attestationInline]);
const BOOL_ONLY = new Set<string>([AttrKey.ociArtifact, AttrKey.preferNondistLayers]);

function parseCompression(v: string): { compression: LayerCompression; estargz: boolean } {
  if (v === "gzip" || v === "zstd" || v === "uncompressed") return { compression: v, estargz: false };
  if (v === "estargz") return { compression: "gzip", estargz: true };
  throw new GantryError("InvalidArgument", `Invalid value "${v}" for exporter attr compression: expected uncompressed, gzip, estargz or zstd.`);
}

function addAnnotation(attrs: ImageAttrs, key: string, value: string): boolean {
  const m = ANNOTATION_KEY.exec(key);
  if (!m) return false;
  const [, type = "manifest", platform = "", name] = m;
  const p = platform === "" ? "" : formatPlatform(parsePlatform(platform));
  let target: Map<string, Record<string, string>>;
  if (type === "manifest") target = attrs.manifestAnnotations;
  else if (type === "manifest-descriptor") target = attrs.descriptorAnnotations;
  else if (type === "index" || type === "index-descriptor") {
    if (platform !== "") throw new GantryError("InvalidArgument", `Invalid attr ${key}: index annotations take no platform.`);
    (type === "index" ? attrs.indexAnnotations : attrs.indexDescriptorAnnotations)[name] = value;
    return true;
  } else {
    throw new GantryError("InvalidArgument", `Invalid attr ${key}: unrecognized annotation type ${type}.`);
  }
  const forPlatform = target.get(p) ?? {};
  forPlatform[name] = value;
  target.set(p, forPlatform);
  return true;
}

/** Parses the attrs of the `oci` or `docker` exporter; InvalidArgument naming the attr at fault. */
export function parseImageAttrs(variant: ImageExporterVariant, raw: Record<string, string>): ImageAttrs {
  const attrs: ImageAttrs = {
    names: [], compression: "gzip", estargz: false, forceCompression: false, ociTypes: variant === "oci",
    manifestAnnotations: new Map(), descriptorAnnotations: new Map(), indexAnnotations: {}, indexDescriptorAnnotations: {},
    rewriteTimestamp: false, tar: true,
  };
  if (variant === "image") {
    attrs.image = { push: false, pushByDigest: false, insecure: false, nameCanonical: false, store: true, unpack: false };
  }
  let ociTypesSet = false;
  for (const [k, v] of Object.entries(raw)) {
    if (addAnnotation(attrs, k, v) || IGNORED.has(k)) continue;
    if (attrs.image && addImageOnlyAttr(attrs.image, k, v)) continue;
    if (BOOL_ONLY.has(k)) {
      parseBoolAttr(k, v);
      continue;
    }
    switch (k) {
      case AttrKey.name: attrs.names = normalizedNames(v); break;
      case AttrKey.dest: if (variant === "image") throw unknownAttr(variant, k); attrs.dest = v; break;
      case AttrKey.tar: if (variant === "image") throw unknownAttr(variant, k); attrs.tar = parseBoolAttr(k, v); break;
      case AttrKey.compression: ({ compression: attrs.compression, estargz: attrs.estargz } = parseCompression(v)); break;
      case AttrKey.compressionLevel: attrs.compressionLevel = parseIntAttr(k, v); break;
      case AttrKey.forceCompression: attrs.forceCompression = parseBoolAttr(k, v); break;
      case AttrKey.ociMediaTypes: attrs.ociTypes = parseBoolAttr(k, v); ociTypesSet = true; break;
      case AttrKey.sourceDateEpoch: attrs.epoch = parseEpochAttr(k, v); break;
      case AttrKey.rewriteTimestamp: attrs.rewriteTimestamp = parseBoolAttr(k, v); break;
      default: throw unknownAttr(variant, k);
    }
  }
  checkCompressionLevel(attrs.compression, attrs.compressionLevel);
  // Upstream turns OCI media types on for estargz whatever oci-mediatypes says (with a warning).
  if (attrs.estargz) attrs.ociTypes = true;
  if (attrs.compression === "zstd" && !attrs.ociTypes) {
    throw new GantryError("InvalidArgument",
      `Exporter option "compression=zstd" conflicts with "oci-mediatypes=false"${ociTypesSet ? "" : ` (the ${variant} exporter's default)`}.`);
  }
  if (!attrs.ociTypes && attrs.descriptorAnnotations.size > 0) {
    throw new GantryError("InvalidArgument", 'Cannot export annotations with "oci-mediatypes=false".');
  }
  return attrs;
}

function addImageOnlyAttr(image: ImageOnlyAttrs, key: string, value: string): boolean {
  switch (key) {
    case AttrKey.push: image.push = parseBoolAttr(key, value); return true;
    case AttrKey.pushByDigest: image.pushByDigest = parseBoolAttr(key, value); return true;
    case AttrKey.insecure: image.insecure = parseBoolAttr(key, value); return true;
    case AttrKey.nameCanonical: image.nameCanonical = parseBoolAttr(key, value); return true;
    case AttrKey.danglingNamePrefix: image.danglingNamePrefix = value; return true;
    case AttrKey.store: image.store = parseBoolAttr(key, value); return true;
    case AttrKey.unpack: image.unpack = parseBoolAttr(key, value); return true;
    default: return false;
  }
}

/**
 * The annotations of `byPlatform` that apply to `platform`, one of the exported `platforms` (default: just
 * it); InvalidArgument if one names a platform the export does not have.
 */
export function annotationsFor(byPlatform: Map<string, Record<string, string>>, platform: Platform,
  platforms: readonly Platform[] = [platform]): Record<string, string> {
  const mine = formatPlatform(platform);
  const all = platforms.map(formatPlatform);
  const out: Record<string, string> = {};
  for (const [p, values] of byPlatform) {
    if (p !== "" && !all.includes(p)) {
      throw new GantryError("InvalidArgument", `Invalid annotation: no platform ${p} found in source (it has ${all.join(", ")}).`);
    }
    if (p === "" || p === mine) Object.assign(out, values);
  }
  return out;
}
