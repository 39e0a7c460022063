// The eStargz table of contents (`stargz.index.json`) and footer, as the stargz-snapshotter project
// defines them: TOC entries field by field, the JSON as Go's encoder writes it (tab indent, `<>&`
// escaped, zero fields left out), and the 51-byte footer whose gzip extra field holds the TOC offset.
import { GantryError } from "../util/errors.js";
import { encodeTarHeader, TAR_BLOCK, tarPadding } from "./tar-format.js";
import type { TarEntryHeader } from "./estargz-tar-reader.js";

/** Name of the TOC's tar entry, the last one in the blob. */
export const ESTARGZ_TOC_NAME = "stargz.index.json";
/** Landmark entry written first when no prioritized files are given: runtimes then prefetch nothing. */
export const ESTARGZ_NO_PREFETCH_LANDMARK = ".no.prefetch.landmark";
/** Landmark that ends the prioritized files (not written by this converter; dropped from inputs). */
export const ESTARGZ_PREFETCH_LANDMARK = ".prefetch.landmark";
/** The one byte a landmark file holds. */
export const ESTARGZ_LANDMARK_CONTENT = 0x0f;
/** Layer descriptor annotation: digest of the uncompressed TOC JSON. */
export const ESTARGZ_TOC_DIGEST_ANNOTATION = "containerd.io/snapshot/stargz/toc.digest";
/** Layer descriptor annotation: size in bytes of the decompressed blob. */
export const ESTARGZ_UNCOMPRESSED_SIZE_ANNOTATION = "io.containers.estargz.uncompressed-size";
/** Size of the footer gzip member that ends every eStargz blob. */
export const ESTARGZ_FOOTER_SIZE = 51;

export type TocEntryType = "dir" | "reg" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "chunk";

/**
 * One TOC entry; optional fields are left out of the JSON when unset, as upstream omits zero values.
 * `offset` is the blob offset of the gzip member where this file's (or chunk's) data starts.
 */
export interface TocEntry {
  name: string;
  type: TocEntryType;
  size?: number;
  modtime?: string;
  linkName?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  userName?: string;
  groupName?: string;
  offset?: number;
  devMajor?: number;
  devMinor?: number;
  /** Values are base64 (Go encodes `[]byte` that way). */
  xattrs?: Record<string, string>;
  digest?: string;
  chunkOffset?: number;
  chunkSize?: number;
  chunkDigest?: string;
}

/** The parsed TOC JSON. */
export interface Toc {
  version: number;
  entries: TocEntry[];
}

const TYPES: Record<string, TocEntryType> = {
  "0": "reg", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo",
};

/** The TOC type of a tar typeflag; InvalidArgument for types eStargz cannot hold (as upstream refuses them). */
export function tocEntryType(h: TarEntryHeader): TocEntryType {
  if (h.typeflag === "\0") return h.name.endsWith("/") ? "dir" : "reg";
  const t = TYPES[h.typeflag];
  if (t === undefined) {
    throw new GantryError("InvalidArgument",
      `Cannot convert the layer tar to eStargz: entry "${h.name}" has unsupported type ${JSON.stringify(h.typeflag)}.`);
  }
  return t;
}

/** RFC 3339 UTC to the second; empty for the epoch, which upstream treats as unknown. */
export function tocModtime(mtime: number): string | undefined {
  const s = Math.round(mtime);
  if (s === 0 || !Number.isFinite(s)) return undefined;
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Upstream writes a user or group name only when it differs from the last one seen for that id. */
export class OwnerNames {
  readonly #users = new Map<number, string>();
  readonly #groups = new Map<number, string>();

  user(uid: number, name: string): string | undefined {
    return changed(this.#users, uid, name);
  }

  group(gid: number, name: string): string | undefined {
    return changed(this.#groups, gid, name);
  }
}

function changed(seen: Map<number, string>, id: number, name: string): string | undefined {
  if (name === "" || seen.get(id) === name) return undefined;
  seen.set(id, name);
  return name;
}

/** The TOC entry of a tar entry's metadata (data fields are filled in while its content is copied). */
export function tocEntryFor(h: TarEntryHeader, owners: OwnerNames): TocEntry {
  const type = tocEntryType(h);
  const e: TocEntry = { name: h.name, type };
  if (type === "reg" && h.size > 0) e.size = h.size;
  e.modtime = tocModtime(h.mtime);
  if (type === "symlink" || type === "hardlink") e.linkName = h.linkname;
  e.mode = h.mode;
  e.uid = h.uid;
  e.gid = h.gid;
  e.userName = owners.user(h.uid, h.uname);
  e.groupName = owners.group(h.gid, h.gname);
  if (type === "char" || type === "block") {
    e.devMajor = h.devmajor;
    e.devMinor = h.devminor;
  }
  if (h.xattrs.size > 0) {
    const names = [...h.xattrs.keys()].sort();
    e.xattrs = Object.fromEntries(names.map((n) => [n, (h.xattrs.get(n) as Buffer).toString("base64")]));
  }
  return e;
}

/** Field order of upstream's TOCEntry struct, which its JSON follows. */
const FIELD_ORDER: ReadonlyArray<keyof TocEntry> = [
  "name", "type", "size", "modtime", "linkName", "mode", "uid", "gid", "userName", "groupName", "offset",
  "devMajor", "devMinor", "xattrs", "digest", "chunkOffset", "chunkSize", "chunkDigest",
];

function isZeroValue(v: unknown): boolean {
  return v === undefined || v === 0 || v === "" || (typeof v === "object" && v !== null && Object.keys(v).length === 0);
}

/** The TOC JSON bytes, laid out as Go's `json.MarshalIndent(toc, "", "\t")` lays them out. */
export function encodeToc(entries: readonly TocEntry[]): Buffer {
  const ordered = entries.map((e) => {
    const o: Record<string, unknown> = {};
    for (const k of FIELD_ORDER) if (k === "name" || k === "type" || !isZeroValue(e[k])) o[k] = e[k];
    return o;
  });
  const text = JSON.stringify({ version: 1, entries: ordered }, null, "\t");
  // Go's encoder escapes these for HTML safety; they occur only inside strings here.
  return Buffer.from(text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/** The uncompressed tar tail holding the TOC: its header, the JSON, padding and the end-of-archive blocks. */
export function tocTarBytes(json: Buffer): Buffer {
  const header = encodeTarHeader({ name: ESTARGZ_TOC_NAME, type: "0", mode: 0, uid: 0, gid: 0, mtime: 0, size: json.length });
  return Buffer.concat([header, json, Buffer.alloc(tarPadding(json.length) + 2 * TAR_BLOCK)]);
}

/**
 * The footer: an empty gzip member (stored block of length 0) whose extra field is subfield `SG`
 * holding `%016x` of the TOC offset followed by `STARGZ`.
 */
export function estargzFooter(tocOffset: number): Buffer {
  const b = Buffer.alloc(ESTARGZ_FOOTER_SIZE);
  b.set([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 255]); // magic, deflate, FEXTRA, mtime 0, XFL 0, OS unknown
  b.writeUInt16LE(26, 10); // XLEN
  b.write("SG", 12, "latin1");
  b.writeUInt16LE(22, 14); // subfield length
  b.write(`${tocOffset.toString(16).padStart(16, "0")}STARGZ`, 16, "latin1");
  b.set([1, 0, 0, 0xff, 0xff], 38); // final stored block, LEN 0, NLEN ~0; CRC32 and ISIZE stay 0
  return b;
}

/** The TOC offset a footer names; InvalidArgument when `footer` is not an eStargz footer. */
export function parseEstargzFooter(footer: Uint8Array): number {
  const b = Buffer.from(footer.buffer, footer.byteOffset, footer.length);
  const ok = b.length === ESTARGZ_FOOTER_SIZE && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8 && (b[3] & 0x04) !== 0 &&
    b.readUInt16LE(10) === 26 && b.toString("latin1", 12, 14) === "SG" && b.readUInt16LE(14) === 22 &&
    b.toString("latin1", 32, 38) === "STARGZ";
  const hex = b.toString("latin1", 16, 32);
  if (!ok || !/^[0-9a-f]{16}$/i.test(hex)) {
    throw new GantryError("InvalidArgument", "Invalid eStargz footer: expected a 51-byte gzip member with an SG extra field ending in STARGZ.");
  }
  return parseInt(hex, 16);
}
