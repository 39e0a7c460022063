import { test } from "node:test";
import assert from "node:assert/strict";
import { Packet_PacketType as PT, type Packet } from "../gen/fsutil/types/wire_pb.js";
import { decodePacket, encodePacket, newPacket, newStat } from "./diffcopy-codec.js";
import { packetConnOver, sendPackets, type PacketConn } from "./packet-conn.js";

function packets(): Packet[] {
  const out: Packet[] = [];
  for (let i = 0; i < 30; i++) out.push(newPacket(PT.PACKET_STAT, { stat: newStat({ path: `dir/file-${i}`, mode: 0o644, size: BigInt(i) }) }));
  out.push(newPacket(PT.PACKET_STAT), newPacket(PT.PACKET_DATA, { ID: 3, data: Buffer.from("abc") }));
  return out;
}

async function* none(): AsyncGenerator<Uint8Array[]> {}

function recorder(batching: boolean): { conn: PacketConn; sent: Uint8Array[]; calls: string[] } {
  const sent: Uint8Array[] = [];
  const calls: string[] = [];
  const conn = packetConnOver(none(), async (m) => {
    calls.push("one");
    sent.push(m);
  }, () => undefined, batching ? async (ms) => {
    calls.push(`many:${ms.length}`);
    sent.push(...ms);
  } : undefined);
  return { conn, sent, calls };
}

test("sendMany hands the transport one batch carrying the same messages as single sends", async () => {
  const ps = packets();
  const single = recorder(false);
  for (const p of ps) await single.conn.send(p);
  const batched = recorder(true);
  assert.ok(batched.conn.sendMany);
  await batched.conn.send(ps[0]);
  await batched.conn.sendMany(ps.slice(1));
  assert.deepEqual(batched.calls, ["one", `many:${ps.length - 1}`]);
  assert.deepEqual(batched.sent, single.sent);
  assert.deepEqual(batched.sent.map(decodePacket).map(encodePacket), ps.map(encodePacket));
});

test("sendPackets falls back to one send per packet, in order, without sendMany", async () => {
  const ps = packets();
  const r = recorder(false);
  assert.equal(r.conn.sendMany, undefined);
  await sendPackets(r.conn, ps);
  assert.deepEqual(r.calls, ps.map(() => "one"));
  assert.deepEqual(r.sent, ps.map(encodePacket));
  const b = recorder(true);
  await sendPackets(b.conn, ps);
  assert.deepEqual(b.calls, [`many:${ps.length}`]);
});

test("a failed batch rejects sendPackets", async () => {
  const conn = packetConnOver(none(), async () => undefined, () => undefined, async () => {
    throw new Error("stream reset");
  });
  await assert.rejects(sendPackets(conn, packets()), /stream reset/);
});
