// Checks the JSON a registry sent before anything trusts its shape: descriptors need a sha256 digest, a
// size and a media type; a manifest needs a config and layers; an index needs manifests. A bad document is
// FailedPrecondition naming what was being resolved.
import { MediaType, isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import type { Descriptor, ImageConfig, Index, Manifest } from "../oci/types.js";
import { isDigest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";

const SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(prettyjws|json)$/;

function invalid(action: string, why: string): GantryError {
  return new GantryError("FailedPrecondition", `Cannot ${action}: ${why}.`);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** Parses JSON bytes into an object; FailedPrecondition naming `what` otherwise. */
export function parseJsonObject(bytes: Uint8Array, action: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw invalid(action, `the ${what} is not valid JSON`);
  }
  if (!isObject(parsed)) throw invalid(action, `the ${what} is not a JSON object`);
  return parsed;
}

/** Checks a descriptor's digest, size and media type. */
export function checkDescriptor(x: unknown, action: string, what: string): Descriptor {
  if (!isObject(x)) throw invalid(action, `${what} is not an object`);
  if (typeof x.digest !== "string" || !isDigest(x.digest)) throw invalid(action, `${what} has no valid sha256 digest`);
  if (typeof x.size !== "number" || !Number.isSafeInteger(x.size) || x.size < 0) throw invalid(action, `${what} has no valid size`);
  if (typeof x.mediaType !== "string" || x.mediaType === "") throw invalid(action, `${what} has no media type`);
  return x as unknown as Descriptor;
}

/**
 * The media type of a fetched manifest: the Content-Type if it is one we know, else the body's
 * `mediaType`, else guessed from the shape (OCI allows omitting it). Schema 1 is Unimplemented.
 */
export function manifestMediaType(contentType: string | null, body: Record<string, unknown>, action: string): string {
  const header = (contentType ?? "").split(";")[0].trim();
  const fromBody = typeof body.mediaType === "string" ? body.mediaType : "";
  if (SCHEMA1.test(header) || SCHEMA1.test(fromBody) || body.schemaVersion === 1) {
    throw new GantryError("Unimplemented", `Cannot ${action}: Docker schema 1 manifests are not supported.`,
      { hint: "Push the image again with a current Docker or registry." });
  }
  const known = (mt: string): boolean => isIndexMediaType(mt) || isManifestMediaType(mt);
  if (known(header)) return header;
  if (known(fromBody)) return fromBody;
  if (Array.isArray(body.manifests)) return MediaType.ociIndex;
  if (isObject(body.config)) return MediaType.ociManifest;
  throw invalid(action, `the registry sent an unsupported manifest type "${header || fromBody || "unknown"}"`);
}

export function checkIndex(body: Record<string, unknown>, action: string): Index {
  if (!Array.isArray(body.manifests)) throw invalid(action, "the index has no manifests list");
  body.manifests.forEach((m, i) => checkDescriptor(m, action, `index entry ${i}`));
  return body as unknown as Index;
}

export function checkManifest(body: Record<string, unknown>, action: string): Manifest {
  checkDescriptor(body.config, action, "the manifest's config");
  if (!Array.isArray(body.layers)) throw invalid(action, "the manifest has no layers list");
  body.layers.forEach((l, i) => checkDescriptor(l, action, `layer ${i}`));
  return body as unknown as Manifest;
}

/** An image config needs `rootfs.diff_ids`, one per layer of its manifest. */
export function checkImageConfig(body: Record<string, unknown>, manifest: Manifest, action: string): ImageConfig {
  const rootfs = body.rootfs;
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids)) throw invalid(action, "the image config has no rootfs.diff_ids");
  if (rootfs.diff_ids.length !== manifest.layers.length) {
    throw invalid(action, `the image config lists ${rootfs.diff_ids.length} layers but the manifest ${manifest.layers.length}`);
  }
  return body as unknown as ImageConfig;
}
