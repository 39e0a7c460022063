// The tar header format (POSIX ustar + PAX extended records), encoded byte-exactly. Values that ustar
// cannot hold (long or non-ASCII names, large ids and sizes, xattrs) go into a PAX record block that the
// caller writes just before the entry's own header; the ustar fields then carry placeholders.

export const TAR_BLOCK = 512;

/** Typeflags used here: file, hard link, symlink, char dev, block dev, dir, fifo, PAX extended header. */
export type TarType = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "x";

export interface TarHeader {
  /** Path inside the archive, relative, `/`-separated; directories end with `/`. */
  name: string;
  type: TarType;
  /** Permission bits including setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the Unix epoch. */
  mtime: number;
  size: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as `SCHILY.xattr.<name>` PAX records with their raw bytes. */
  xattrs?: Map<string, Buffer>;
}

const MAX_ID = 0o7777777;
const MAX_SIZE = 0o77777777777;

/** Zero bytes needed after `size` bytes of entry data to reach the next block boundary. */
export function tarPadding(size: number): number {
  const rem = size % TAR_BLOCK;
  return rem === 0 ? 0 : TAR_BLOCK - rem;
}

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

/** Splits a long ASCII name into ustar's prefix (≤155) and name (≤100) at a slash, if possible. */
function splitUstar(name: string): { prefix: string; name: string } | undefined {
  if (name.length <= 100) return { prefix: "", name };
  const trailing = name.endsWith("/") ? 1 : 0;
  for (let i = name.length - 1 - trailing; i > 0; i--) {
    if (name[i] !== "/") continue;
    if (i <= 155 && name.length - i - 1 <= 100) return { prefix: name.slice(0, i), name: name.slice(i + 1) };
    if (i < name.length - 101) break;
  }
  return undefined;
}

function nameNeedsPax(name: string): boolean {
  return !isAscii(name) || splitUstar(name) === undefined;
}

function linkNeedsPax(link: string | undefined): boolean {
  return link !== undefined && (!isAscii(link) || link.length > 100);
}

function placeholder(s: string, max: number): string {
  return s.replace(/[^\x01-\x7f]/g, "_").slice(0, max);
}

/** The PAX record block this header needs, or undefined when plain ustar holds everything. */
export function paxRecords(h: TarHeader): Buffer | undefined {
  const recs = new Map<string, Buffer>();
  if (nameNeedsPax(h.name)) recs.set("path", Buffer.from(h.name));
  if (linkNeedsPax(h.linkname)) recs.set("linkpath", Buffer.from(h.linkname ?? ""));
  if (h.uid > MAX_ID) recs.set("uid", Buffer.from(String(h.uid)));
  if (h.gid > MAX_ID) recs.set("gid", Buffer.from(String(h.gid)));
  if (h.size > MAX_SIZE) recs.set("size", Buffer.from(String(h.size)));
  if (h.mtime < 0 || h.mtime > MAX_SIZE) recs.set("mtime", Buffer.from(String(h.mtime)));
  for (const [k, v] of h.xattrs ?? []) recs.set(`SCHILY.xattr.${k}`, v);
  if (recs.size === 0) return undefined;
  const keys = [...recs.keys()].sort();
  return Buffer.concat(keys.map((k) => paxRecord(k, recs.get(k) as Buffer)));
}

/** One `"<len> <key>=<value>\n"` record, where len counts the whole record including its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.byteLength(key) + value.length + 3; // space, '=', newline
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from("\n")]);
}

function writeOctal(buf: Buffer, offset: number, width: number, value: number): void {
  const fits = value >= 0 && value < 8 ** (width - 1);
  buf.write((fits ? value : 0).toString(8).padStart(width - 1, "0"), offset, "ascii");
  buf[offset + width - 1] = 0;
}

/** Encodes one 512-byte ustar header. Fields that do not fit get placeholders (see `paxRecords`). */
export function encodeTarHeader(h: TarHeader): Buffer {
  const buf = Buffer.alloc(TAR_BLOCK);
  const split = isAscii(h.name) ? splitUstar(h.name) : undefined;
  buf.write(split ? split.name : placeholder(h.name, 100), 0, 100, "ascii");
  writeOctal(buf, 100, 8, h.mode & 0o7777);
  writeOctal(buf, 108, 8, h.uid);
  writeOctal(buf, 116, 8, h.gid);
  writeOctal(buf, 124, 12, h.size);
  writeOctal(buf, 136, 12, h.mtime);
  buf.write(h.type, 156, 1, "ascii");
  if (h.linkname !== undefined) buf.write(linkNeedsPax(h.linkname) ? placeholder(h.linkname, 100) : h.linkname, 157, 100, "ascii");
  buf.write("ustar\u000000", 257, 8, "ascii");
  writeOctal(buf, 329, 8, h.devmajor ?? 0);
  writeOctal(buf, 337, 8, h.devminor ?? 0);
  if (split && split.prefix !== "") buf.write(split.prefix, 345, 155, "ascii");
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += buf[i];
  buf.write(sum.toString(8).padStart(6, "0"), 148, 6, "ascii");
  buf[154] = 0;
  buf[155] = 0x20;
  return buf;
}
