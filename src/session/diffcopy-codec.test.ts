import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { StatSchema } from "../gen/fsutil/types/stat_pb.js";
import { PacketSchema, Packet_PacketType as PT, type Packet } from "../gen/fsutil/types/wire_pb.js";
import { decodePacket, encodePacket, newPacket, newStat } from "./diffcopy-codec.js";

function randomInt64(rand: () => number): bigint {
  const pick = rand();
  if (pick < 0.2) return 0n;
  if (pick < 0.3) return -BigInt(Math.floor(rand() * 2 ** 40)) - 1n;
  if (pick < 0.4) return BigInt.asIntN(64, (1n << 63n) - 1n);
  if (pick < 0.5) return -(1n << 63n);
  return BigInt(Math.floor(rand() * 2 ** 30)) * BigInt(Math.floor(rand() * 2 ** 32)) + BigInt(Math.floor(rand() * 1000));
}

function randomPackets(n: number): Packet[] {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const u32 = (): number => (rand() < 0.2 ? 0 : rand() < 0.3 ? 0xffffffff : Math.floor(rand() * 2 ** 32));
  const str = (): string => (rand() < 0.2 ? "" : ["a", "dir/é/ü", "x".repeat(200), "日本/語", "emoji-😀", "b\u0000c"][Math.floor(rand() * 6)]);
  const out: Packet[] = [];
  for (let i = 0; i < n; i++) {
    const type = Math.floor(rand() * 5) as PT;
    const withStat = rand() < 0.6;
    const xattrs: Record<string, Uint8Array> = {};
    if (rand() < 0.2) xattrs["user.k"] = Buffer.from("v");
    if (rand() < 0.1) xattrs["security.capability"] = new Uint8Array(0);
    const stat = withStat ? newStat({
      path: str(), mode: u32(), uid: u32(), gid: u32(), size: randomInt64(rand), modTime: randomInt64(rand),
      linkname: str(), devmajor: randomInt64(rand), devminor: randomInt64(rand), xattrs,
    }) : undefined;
    const data = rand() < 0.5 ? new Uint8Array(0) : Buffer.alloc(Math.floor(rand() * 70_000), i & 0xff);
    out.push(newPacket(type, { stat, ID: u32(), data }));
  }
  return out;
}

function plain(p: Packet): unknown {
  return {
    type: p.type, ID: p.ID, data: Buffer.from(p.data).toString("hex"),
    stat: p.stat && { ...p.stat, $typeName: undefined, $unknown: undefined, xattrs: Object.fromEntries(Object.entries(p.stat.xattrs).map(([k, v]) => [k, Buffer.from(v).toString("hex")])) },
  };
}

test("hand-written Packet encoding matches the generated codec byte for byte and decodes what it writes", () => {
  for (const p of randomPackets(400)) {
    const ours = encodePacket(p);
    const theirs = toBinary(PacketSchema, create(PacketSchema, { ...p, stat: p.stat && create(StatSchema, p.stat) }));
    assert.deepEqual(Buffer.from(ours), Buffer.from(theirs));
    assert.deepEqual(plain(decodePacket(theirs)), plain(fromBinary(PacketSchema, theirs)));
  }
});

test("decoding skips unknown fields, merges repeated messages and refuses truncated input", () => {
  const p = newPacket(PT.PACKET_STAT, { stat: newStat({ path: "a/b", mode: 0o644, modTime: 1_700_000_000_123_456_789n }) });
  const bytes = Buffer.from(encodePacket(p));
  // Unknown fields of every wire type, before and after the known ones.
  const unknown = Buffer.from([0x28, 0x96, 0x01, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x3a, 2, 9, 9, 0x45, 1, 2, 3, 4]);
  const got = decodePacket(Buffer.concat([unknown, bytes, unknown]));
  assert.deepEqual(plain(got), plain(p));
  // A second stat field merges: later scalars win, earlier ones stay.
  const more = Buffer.from(encodePacket(newPacket(PT.PACKET_STAT, { stat: newStat({ uid: 7 }) })));
  const merged = decodePacket(Buffer.concat([bytes, more]));
  assert.equal(merged.stat?.path, "a/b");
  assert.equal(merged.stat?.uid, 7);
  assert.throws(() => decodePacket(bytes.subarray(0, bytes.length - 1)), /runs past the end/);
  assert.throws(() => decodePacket(Buffer.from([0x0b])), /wire type 3/);
});

test("listing packets (a Stat and nothing else) encode as the generated codec does, each in its own bytes", () => {
  const stats = [
    newStat({}),
    newStat({ path: "a", mode: 0o100644, size: 12n, modTime: 1_700_000_000_123_456_789n }),
    newStat({ path: "d/".repeat(70), mode: 0x800001ed }), // body over 127 bytes: a two-byte length
    newStat({ path: "p".repeat(20_000), linkname: "é".repeat(300) }), // over the scratch buffer and 16 KiB
    newStat({ path: "x", xattrs: { "user.a": Buffer.from("1"), "user.b": new Uint8Array(0) } }),
  ];
  const encoded: Array<[Uint8Array, Uint8Array]> = [];
  for (const type of [PT.PACKET_STAT, PT.PACKET_REQ, PT.PACKET_DATA, 300 as PT]) {
    for (const stat of stats) {
      const p = newPacket(type, { stat });
      const theirs = toBinary(PacketSchema, create(PacketSchema, { ...p, stat: create(StatSchema, stat) }));
      encoded.push([encodePacket(p), theirs]);
    }
  }
  // Compared after all were encoded: a later packet must not overwrite an earlier one's bytes.
  for (const [ours, theirs] of encoded) assert.deepEqual(Buffer.from(ours), Buffer.from(theirs));
});
