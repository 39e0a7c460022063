// The protobuf encoding of fsutil's Packet and Stat, written out by hand. A DiffCopy moves one Packet per
// listed entry (tens of thousands per build context), and the generic reflective codec cost more than the
// lstat behind each entry. The bytes are the standard proto3 encoding of proto/fsutil/types/*.proto
// (default values left out, fields in number order); decoding accepts any valid encoding and skips
// unknown fields. diffcopy-codec.test.ts checks both directions against the generated codec.
import type { Stat } from "../gen/fsutil/types/stat_pb.js";
import { Packet_PacketType, type Packet } from "../gen/fsutil/types/wire_pb.js";
import { GantryError } from "../util/errors.js";

const TWO_32 = 0x1_0000_0000;

/** A Packet object as the generated code shapes it, without its reflective `create`. */
export function newPacket(type: Packet_PacketType, fields: { stat?: Stat; ID?: number; data?: Uint8Array } = {}): Packet {
  return { $typeName: "fsutil.types.Packet", type, stat: fields.stat, ID: fields.ID ?? 0, data: fields.data ?? EMPTY };
}

/** A Stat object as the generated code shapes it; unset fields take their proto3 defaults. */
export function newStat(fields: Partial<Omit<Stat, "$typeName" | "$unknown">>): Stat {
  return {
    $typeName: "fsutil.types.Stat", path: fields.path ?? "", mode: fields.mode ?? 0, uid: fields.uid ?? 0, gid: fields.gid ?? 0,
    size: fields.size ?? 0n, modTime: fields.modTime ?? 0n, linkname: fields.linkname ?? "", devmajor: fields.devmajor ?? 0n,
    devminor: fields.devminor ?? 0n, xattrs: fields.xattrs ?? {},
  };
}

const EMPTY = new Uint8Array(0);

/** The wire bytes of `p`. */
export function encodePacket(p: Packet): Uint8Array {
  if (p.stat && p.ID === 0 && p.data.length === 0) return encodeStatPacket(p.type, p.stat);
  const w = new Writer(64 + p.data.length + (p.stat ? statBound(p.stat) : 0));
  if (p.type !== 0) w.tag(1, 0).varint32(p.type);
  if (p.stat) {
    w.tag(2, 2);
    w.sized(() => writeStat(w, p.stat!));
  }
  if (p.ID !== 0) w.tag(3, 0).varint32(p.ID);
  if (p.data.length > 0) w.tag(4, 2).bytes(p.data);
  return w.finish();
}

/** Room left in front of a Stat body in the scratch writer for the packet's type and length prefix. */
const STAT_HEAD = 16;
/** Reused for every listing entry: the body is written once, then copied out behind its header. */
const scratch = { w: undefined as Writer | undefined };

/**
 * The common listing packet (a type and a Stat, nothing else), encoded without a closure, a size estimate
 * or a move of the body once its length is known: one exact-size output per packet.
 */
function encodeStatPacket(type: number, s: Stat): Uint8Array {
  const w = (scratch.w ??= new Writer(4096));
  w.seek(STAT_HEAD);
  writeStat(w, s);
  const end = w.position;
  const n = end - STAT_HEAD;
  const head = (type !== 0 ? 1 + varintSize(type >>> 0) : 0) + 1 + varintSize(n);
  const start = STAT_HEAD - head;
  w.seek(start);
  if (type !== 0) w.tag(1, 0).varint32(type);
  w.tag(2, 2).varint32(n);
  return w.copyOut(start, end);
}

function statBound(s: Stat): number {
  let n = 80 + 3 * (s.path.length + s.linkname.length);
  for (const k in s.xattrs) n += 24 + 3 * k.length + s.xattrs[k].length;
  return n;
}

function writeStat(w: Writer, s: Stat): void {
  if (s.path !== "") w.tag(1, 2).string(s.path);
  if (s.mode !== 0) w.tag(2, 0).varint32(s.mode);
  if (s.uid !== 0) w.tag(3, 0).varint32(s.uid);
  if (s.gid !== 0) w.tag(4, 0).varint32(s.gid);
  if (s.size !== 0n) w.tag(5, 0).int64(s.size);
  if (s.modTime !== 0n) w.tag(6, 0).int64(s.modTime);
  if (s.linkname !== "") w.tag(7, 2).string(s.linkname);
  if (s.devmajor !== 0n) w.tag(8, 0).int64(s.devmajor);
  if (s.devminor !== 0n) w.tag(9, 0).int64(s.devminor);
  for (const k in s.xattrs) {
    const v = s.xattrs[k];
    w.tag(10, 2);
    w.sized(() => {
      w.tag(1, 2).string(k);
      w.tag(2, 2).bytes(v);
    });
  }
}

/** Decodes one Packet; InvalidArgument when the bytes are not a valid encoding of one. */
export function decodePacket(bytes: Uint8Array): Packet {
  const r = new Reader(bytes, 0, bytes.length);
  const p = newPacket(Packet_PacketType.PACKET_STAT);
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 0) p.type = r.varint32() | 0;
    else if (field === 2 && wire === 2) p.stat = readStat(r.sub(), p.stat);
    else if (field === 3 && wire === 0) p.ID = r.varint32();
    else if (field === 4 && wire === 2) p.data = r.bytes();
    else r.skip(wire);
  }
  return p;
}

/** Reads a Stat; a repeated field merges into `into`, as protobuf does. */
function readStat(r: Reader, into?: Stat): Stat {
  const s = into ?? newStat({});
  while (r.more()) {
    const [field, wire] = r.tag();
    if (wire === 0 && field >= 2 && field <= 9 && field !== 7) {
      if (field === 2) s.mode = r.varint32();
      else if (field === 3) s.uid = r.varint32();
      else if (field === 4) s.gid = r.varint32();
      else if (field === 5) s.size = r.int64();
      else if (field === 6) s.modTime = r.int64();
      else if (field === 8) s.devmajor = r.int64();
      else s.devminor = r.int64();
    } else if (field === 1 && wire === 2) s.path = r.string();
    else if (field === 7 && wire === 2) s.linkname = r.string();
    else if (field === 10 && wire === 2) readXattr(r.sub(), s.xattrs);
    else r.skip(wire);
  }
  return s;
}

function readXattr(r: Reader, into: Record<string, Uint8Array>): void {
  let key = "";
  let value: Uint8Array = EMPTY;
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) key = r.string();
    else if (field === 2 && wire === 2) value = r.bytes();
    else r.skip(wire);
  }
  into[key] = value;
}

function invalid(why: string): GantryError {
  return new GantryError("InvalidArgument", `Cannot decode a DiffCopy packet: ${why}.`);
}

class Writer {
  #buf: Buffer;
  #pos = 0;

  constructor(size: number) {
    this.#buf = Buffer.allocUnsafe(size);
  }

  tag(field: number, wire: number): this {
    return this.varint32((field << 3) | wire);
  }

  varint32(v: number): this {
    this.#room(5);
    let n = v >>> 0;
    while (n > 0x7f) {
      this.#buf[this.#pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.#buf[this.#pos++] = n;
    return this;
  }

  /** An int64 as a varint of its 64-bit two's complement (10 bytes when negative). */
  int64(v: bigint): this {
    const u = BigInt.asUintN(64, v);
    let lo = Number(u & 0xffffffffn);
    let hi = Number(u >> 32n);
    this.#room(10);
    while (hi > 0 || lo > 0x7f) {
      this.#buf[this.#pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    this.#buf[this.#pos++] = lo;
    return this;
  }

  string(s: string): this {
    const n = Buffer.byteLength(s, "utf8");
    this.varint32(n);
    this.#room(n);
    this.#buf.write(s, this.#pos, n, "utf8");
    this.#pos += n;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.varint32(b.length);
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** A length-delimited body written by `fn`, its length prefixed after the fact. */
  sized(fn: () => void): void {
    this.#room(5);
    const lenAt = this.#pos;
    this.#pos += 5;
    fn();
    const n = this.#pos - lenAt - 5;
    const size = varintSize(n);
    if (size !== 5) this.#buf.copy(this.#buf, lenAt + size, lenAt + 5, this.#pos);
    this.#pos = lenAt;
    this.varint32(n);
    this.#pos += n;
  }

  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  get position(): number {
    return this.#pos;
  }

  /** Moves the write position (within what the buffer holds), to reuse it or fill in a reserved prefix. */
  seek(pos: number): void {
    this.#room(pos - this.#pos);
    this.#pos = pos;
  }

  /** A fresh copy of bytes [start, end), for a caller that keeps it while this buffer is reused. */
  copyOut(start: number, end: number): Uint8Array {
    const out = Buffer.allocUnsafe(end - start);
    this.#buf.copy(out, 0, start, end);
    return out;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.#buf.length, this.#pos + n));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

class Reader {
  readonly #buf: Buffer;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array, start: number, end: number) {
    this.#buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  more(): boolean {
    return this.#pos < this.#end;
  }

  tag(): [number, number] {
    const t = this.varint32();
    const field = t >>> 3;
    if (field === 0) throw invalid("field number 0");
    return [field, t & 7];
  }

  /** A varint truncated to its low 32 bits, as protobuf reads uint32 and enum fields. */
  varint32(): number {
    const [lo] = this.#varint();
    return lo >>> 0;
  }

  int64(): bigint {
    const [lo, hi] = this.#varint();
    return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }

  string(): string {
    const n = this.#length();
    const s = this.#buf.toString("utf8", this.#pos, this.#pos + n);
    this.#pos += n;
    return s;
  }

  bytes(): Uint8Array {
    const n = this.#length();
    const b = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }

  /** A reader over the next length-delimited field. */
  sub(): Reader {
    const n = this.#length();
    const r = new Reader(this.#buf, this.#pos, this.#pos + n);
    this.#pos += n;
    return r;
  }

  skip(wire: number): void {
    if (wire === 0) this.#varint();
    else if (wire === 1) this.#advance(8);
    else if (wire === 2) this.#advance(this.#length());
    else if (wire === 5) this.#advance(4);
    else throw invalid(`unsupported wire type ${wire}`);
  }

  #length(): number {
    const [lo, hi] = this.#varint();
    const n = hi * TWO_32 + (lo >>> 0);
    if (n > this.#end - this.#pos) throw invalid("a field runs past the end");
    return n;
  }

  #advance(n: number): void {
    if (n > this.#end - this.#pos) throw invalid("a field runs past the end");
    this.#pos += n;
  }

  /** A varint (up to 10 bytes) as its low and high 32-bit halves. */
  #varint(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.#pos >= this.#end) throw invalid("a varint runs past the end");
      const b = this.#buf[this.#pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if ((b & 0x80) === 0) return [lo >>> 0, hi >>> 0];
    }
    throw invalid("a varint is longer than 10 bytes");
  }
}
