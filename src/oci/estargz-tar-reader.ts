// A streaming tar reader for the eStargz converter that keeps each entry's raw header bytes (GNU long-name
// blocks, PAX records, the header itself) so they can be copied into the blob unchanged, while decoding the
// fields the TOC needs. tar-stream hides those raw bytes, hence this small reader.
import { canceledError, GantryError } from "../util/errors.js";
import { TAR_BLOCK, tarPadding } from "./tar-format.js";

/** The decoded fields of one tar entry, after GNU long names and PAX records are applied. */
export interface TarEntryHeader {
  name: string;
  /** The typeflag byte as a one-character string (`"\0"` for old-style regular files). */
  typeflag: string;
  /** The header's whole mode field, as upstream's TOC records it (no masking). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch; may be fractional when a PAX record says so. */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** `SCHILY.xattr.<name>` PAX records, raw bytes. */
  xattrs: Map<string, Buffer>;
}

/** One entry's header: the decoded fields and every raw block that precedes its data. */
export interface TarEntryHead {
  kind: "entry";
  header: TarEntryHeader;
  raw: Buffer;
}

/** The end of the archive: `raw` is the first zero block, or empty when the input just ended. */
export interface TarEnd {
  kind: "end";
  raw: Buffer;
}

/** Pulls exact byte counts out of an async iterable of arbitrary chunks. */
export class TarByteSource {
  readonly #iter: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #avail = 0;
  #ended = false;
  readonly #aborted: Promise<never> | undefined;
  #unlisten: (() => void) | undefined;

  /** Reads from `input`; a wait for input ends with Canceled when `signal` aborts. */
  constructor(input: AsyncIterable<Uint8Array>, signal?: AbortSignal) {
    this.#iter = input[Symbol.asyncIterator]();
    if (signal) {
      this.#aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) return reject(canceledError(signal));
        const onAbort = (): void => reject(canceledError(signal));
        signal.addEventListener("abort", onAbort, { once: true });
        this.#unlisten = () => signal.removeEventListener("abort", onAbort);
      });
      this.#aborted.catch(() => undefined); // observed only while a read is waiting
    }
  }

  /**
   * Exactly `n` bytes; or undefined when `eofOk` and the input ended cleanly before any of them.
   * A short read is InvalidArgument (a truncated tar).
   */
  async read(n: number, eofOk = false): Promise<Buffer | undefined> {
    while (this.#avail < n && !this.#ended) await this.#pull();
    if (this.#avail < n) {
      if (eofOk && this.#avail === 0) return undefined;
      throw new GantryError("InvalidArgument", `Cannot convert the layer tar to eStargz: it ends ${n - this.#avail} bytes early (truncated archive).`);
    }
    return this.#take(n);
  }

  /** Yields whatever is left of the input, in the chunks it comes in. */
  async *rest(): AsyncGenerator<Buffer> {
    for (const c of this.#chunks) yield c;
    this.#chunks = [];
    this.#avail = 0;
    while (!this.#ended) {
      const r = await this.#next();
      if (r.done) this.#ended = true;
      else if (r.value.length > 0) yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    }
  }

  /**
   * Stops the underlying iterator if it has not ended (the converter failed or was abandoned). Not
   * awaited: a producer stuck in a read that an abort gave up on would never answer.
   */
  close(): void {
    this.#unlisten?.();
    if (!this.#ended) {
      this.#ended = true;
      this.#iter.return?.()?.catch(() => undefined);
    }
  }

  #next(): Promise<IteratorResult<Uint8Array>> {
    return this.#aborted ? Promise.race([this.#iter.next(), this.#aborted]) : this.#iter.next();
  }

  async #pull(): Promise<void> {
    const r = await this.#next();
    if (r.done) {
      this.#ended = true;
      return;
    }
    if (r.value.length === 0) return;
    this.#chunks.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length));
    this.#avail += r.value.length;
  }

  #take(n: number): Buffer {
    this.#avail -= n;
    const first = this.#chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    return out;
  }
}

function cString(b: Buffer, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString("utf8");
}

/** Octal (NUL/space padded) or GNU base-256 numeric field. */
function numeric(b: Buffer, start: number, len: number): number {
  const field = b.subarray(start, start + len);
  if (field[0] & 0x80) {
    // Base-256, two's complement; 0x40 in the first byte marks a negative value.
    const inv = field[0] & 0x40 ? 0xff : 0;
    let v = 0;
    for (let i = 0; i < field.length; i++) v = v * 256 + ((field[i] ^ inv) & (i === 0 ? 0x7f : 0xff));
    return inv ? -v - 1 : v;
  }
  const s = field.toString("latin1").replace(/[\0 ]+$/, "").replace(/^[ \0]+/, "");
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw badHeader(`numeric field "${s}" at byte ${start} is not octal`);
  return parseInt(s, 8);
}

function badHeader(reason: string): GantryError {
  return new GantryError("InvalidArgument", `Cannot convert the layer tar to eStargz: invalid tar header (${reason}).`);
}

function checkSum(b: Buffer): void {
  const want = numeric(b, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i];
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  if (want !== unsigned && want !== signed) throw badHeader(`checksum ${want} does not match ${unsigned}`);
}

function isZero(b: Buffer): boolean {
  for (const v of b) if (v !== 0) return false;
  return true;
}

/** PAX extended records, `"<len> <key>=<value>\n"` each. Values stay raw bytes (xattrs need them). */
function parsePax(data: Buffer): Map<string, Buffer> {
  const recs = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    const len = sp < 0 ? NaN : Number(data.toString("latin1", pos, sp));
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) throw badHeader("malformed PAX record");
    const rec = data.subarray(sp + 1, pos + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw badHeader("PAX record without '='");
    recs.set(rec.toString("utf8", 0, eq), rec.subarray(eq + 1));
    pos += len;
  }
  return recs;
}

function decodeHeader(b: Buffer): TarEntryHeader {
  const magic = b.toString("latin1", 257, 263);
  let name = cString(b, 0, 100);
  const prefix = magic === "ustar\0" ? cString(b, 345, 155) : "";
  if (prefix !== "") name = `${prefix}/${name}`;
  return {
    name, typeflag: String.fromCharCode(b[156]), mode: numeric(b, 100, 8), uid: numeric(b, 108, 8), gid: numeric(b, 116, 8),
    size: numeric(b, 124, 12), mtime: numeric(b, 136, 12), linkname: cString(b, 157, 100),
    uname: cString(b, 265, 32), gname: cString(b, 297, 32), devmajor: numeric(b, 329, 8), devminor: numeric(b, 337, 8),
    xattrs: new Map(),
  };
}

function applyPax(h: TarEntryHeader, pax: Map<string, Buffer>): void {
  for (const [k, v] of pax) {
    const s = v.toString("utf8");
    if (k === "path") h.name = s;
    else if (k === "linkpath") h.linkname = s;
    else if (k === "uname") h.uname = s;
    else if (k === "gname") h.gname = s;
    else if (k === "size" || k === "uid" || k === "gid" || k === "mtime") {
      const n = Number(s);
      if (!Number.isFinite(n)) throw badHeader(`PAX ${k} "${s}" is not a number`);
      h[k] = n;
    } else if (k.startsWith("SCHILY.xattr.")) h.xattrs.set(k.slice("SCHILY.xattr.".length), v);
  }
}

/** Reads the next entry's header blocks; the caller then reads `size` data bytes plus padding. */
export async function nextTarEntry(src: TarByteSource): Promise<TarEntryHead | TarEnd> {
  const raw: Buffer[] = [];
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await src.read(TAR_BLOCK, raw.length === 0);
    if (block === undefined) return { kind: "end", raw: Buffer.alloc(0) };
    if (raw.length === 0 && isZero(block)) return { kind: "end", raw: block };
    checkSum(block);
    raw.push(block);
    const h = decodeHeader(block);
    if (h.typeflag === "x" || h.typeflag === "L" || h.typeflag === "K") {
      const data = (await src.read(h.size + tarPadding(h.size))) as Buffer;
      raw.push(data);
      const body = data.subarray(0, h.size);
      if (h.typeflag === "x") pax = parsePax(body);
      else {
        const nul = body.indexOf(0);
        const s = body.subarray(0, nul < 0 ? body.length : nul).toString("utf8");
        if (h.typeflag === "L") longName = s;
        else longLink = s;
      }
      continue;
    }
    if (longName !== undefined) h.name = longName;
    if (longLink !== undefined) h.linkname = longLink;
    if (pax) applyPax(h, pax);
    return { kind: "entry", header: h, raw: raw.length === 1 ? raw[0] : Buffer.concat(raw) };
  }
}
