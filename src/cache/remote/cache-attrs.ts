// `--export-cache` / `--import-cache` entries ({type, attrs}, as in the Control API's CacheOptions) checked
// and turned into specs before anything is built, so a typo fails fast with the flag named.
import type { LayerCompression } from "../../oci/media-types.js";
import { parseReference, type Reference } from "../../oci/reference.js";
import { parseDigest, type Digest } from "../../util/digest.js";
import { GantryError } from "../../util/errors.js";

export interface CacheEntry {
  type: string;
  attrs: Record<string, string>;
}

/** min: only the final result's layer chain; max: every result of the build. */
export type CacheMode = "min" | "max";

interface ExportCommon {
  mode: CacheMode;
  compression: LayerCompression;
  compressionLevel?: number;
  /** OCI media types (default) or Docker's. */
  ociTypes: boolean;
  /** An image manifest whose config is the cache config (default), or an index listing blobs and config. */
  imageManifest: boolean;
  /** Report export failures as warnings instead of failing the build. */
  ignoreError: boolean;
}

export type CacheExportSpec =
  | ({ type: "local"; dest: string; tag: string } & ExportCommon)
  | ({ type: "registry"; ref: Reference; insecure: boolean } & ExportCommon)
  | { type: "inline"; mode: CacheMode; ignoreError: boolean };

export type CacheImportSpec =
  | { type: "local"; src: string; tag: string; digest?: Digest }
  | { type: "registry"; ref: Reference; insecure: boolean };

const KNOWN_BACKENDS = ["local", "registry", "inline"];
const UNIMPLEMENTED_BACKENDS = ["s3", "gha", "azblob"];
const EXPORT_FLAG = "--export-cache";
const IMPORT_FLAG = "--import-cache";

const EXPORT_ATTRS: Record<string, string[]> = {
  local: ["dest", "tag", "mode", "compression", "compression-level", "force-compression", "oci-mediatypes", "image-manifest", "ignore-error"],
  registry: ["ref", "registry.insecure", "mode", "compression", "compression-level", "force-compression", "oci-mediatypes", "image-manifest", "ignore-error"],
  inline: ["mode", "ignore-error"],
};
const IMPORT_ATTRS: Record<string, string[]> = {
  local: ["src", "tag", "digest"],
  registry: ["ref", "registry.insecure"],
};

function invalid(flag: string, entry: CacheEntry, why: string): GantryError {
  return new GantryError("InvalidArgument", `Invalid ${flag} type=${entry.type}: ${why}.`);
}

function checkType(flag: string, entry: CacheEntry, allowed: string[]): void {
  if (UNIMPLEMENTED_BACKENDS.includes(entry.type)) {
    throw new GantryError("Unimplemented", `${flag} type=${entry.type} is not supported by gantry; use ${allowed.join(", ")}.`);
  }
  if (!allowed.includes(entry.type)) {
    throw new GantryError("InvalidArgument",
      `Invalid ${flag}: unknown cache type "${entry.type}"; use ${allowed.join(", ")}.`);
  }
}

function checkKnown(flag: string, entry: CacheEntry, known: string[]): void {
  for (const k of Object.keys(entry.attrs)) {
    if (!known.includes(k)) throw invalid(flag, entry, `unknown attr "${k}" (known: ${known.join(", ")})`);
  }
}

function bool(flag: string, entry: CacheEntry, key: string, dflt: boolean): boolean {
  const v = entry.attrs[key];
  if (v === undefined) return dflt;
  if (v === "" || /^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw invalid(flag, entry, `${key}="${v}" is not true or false`);
}

function required(flag: string, entry: CacheEntry, key: string, what: string): string {
  const v = entry.attrs[key];
  if (!v) throw invalid(flag, entry, `${key}=${what} is required`);
  return v;
}

function reference(flag: string, entry: CacheEntry): Reference {
  const text = required(flag, entry, "ref", "<registry>/<repository>:<tag>");
  try {
    return parseReference(text);
  } catch (err) {
    throw new GantryError("InvalidArgument", `Invalid ${flag} type=${entry.type}: ref "${text}" is not an image reference.`, { cause: err });
  }
}

function exportCommon(entry: CacheEntry): ExportCommon {
  const a = entry.attrs;
  const mode = a.mode ?? "min";
  if (mode !== "min" && mode !== "max") throw invalid(EXPORT_FLAG, entry, `unknown mode "${mode}"; use min or max`);
  const compression = a.compression ?? "gzip";
  if (compression !== "gzip" && compression !== "zstd" && compression !== "uncompressed") {
    throw invalid(EXPORT_FLAG, entry, `unknown compression "${compression}"; use gzip, zstd or uncompressed`);
  }
  let compressionLevel: number | undefined;
  if (a["compression-level"] !== undefined) {
    compressionLevel = Number(a["compression-level"]);
    if (!Number.isInteger(compressionLevel)) throw invalid(EXPORT_FLAG, entry, `compression-level "${a["compression-level"]}" is not an integer`);
  }
  const ociTypes = bool(EXPORT_FLAG, entry, "oci-mediatypes", true);
  if (!ociTypes && compression === "zstd") throw invalid(EXPORT_FLAG, entry, "compression=zstd needs oci-mediatypes=true");
  const imageManifest = bool(EXPORT_FLAG, entry, "image-manifest", ociTypes);
  if (imageManifest && !ociTypes) throw invalid(EXPORT_FLAG, entry, "image-manifest=true needs oci-mediatypes=true");
  return { mode, compression, compressionLevel, ociTypes, imageManifest, ignoreError: bool(EXPORT_FLAG, entry, "ignore-error", false) };
}

/** Checks one `--export-cache` entry. InvalidArgument naming the flag and attr; Unimplemented for s3/gha/azblob. */
export function parseCacheExport(entry: CacheEntry): CacheExportSpec {
  checkType(EXPORT_FLAG, entry, KNOWN_BACKENDS);
  checkKnown(EXPORT_FLAG, entry, EXPORT_ATTRS[entry.type]);
  const common = exportCommon(entry);
  switch (entry.type) {
    case "local":
      return { type: "local", dest: required(EXPORT_FLAG, entry, "dest", "<directory>"), tag: entry.attrs.tag || "latest", ...common };
    case "registry":
      return { type: "registry", ref: reference(EXPORT_FLAG, entry), insecure: bool(EXPORT_FLAG, entry, "registry.insecure", false), ...common };
    default:
      return { type: "inline", mode: common.mode, ignoreError: common.ignoreError };
  }
}

/** Checks one `--import-cache` entry. InvalidArgument naming the flag and attr; Unimplemented for s3/gha/azblob. */
export function parseCacheImport(entry: CacheEntry): CacheImportSpec {
  checkType(IMPORT_FLAG, entry, ["local", "registry"]);
  checkKnown(IMPORT_FLAG, entry, IMPORT_ATTRS[entry.type]);
  if (entry.type === "local") {
    const src = required(IMPORT_FLAG, entry, "src", "<directory>");
    const d = entry.attrs.digest;
    let digest: Digest | undefined;
    if (d) {
      try {
        digest = parseDigest(d);
      } catch (err) {
        throw new GantryError("InvalidArgument", `Invalid ${IMPORT_FLAG} type=local: digest "${d}" is not a sha256 digest.`, { cause: err });
      }
    }
    return { type: "local", src, tag: entry.attrs.tag || "latest", ...(digest ? { digest } : {}) };
  }
  return { type: "registry", ref: reference(IMPORT_FLAG, entry), insecure: bool(IMPORT_FLAG, entry, "registry.insecure", false) };
}
