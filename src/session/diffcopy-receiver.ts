// The receiving end of fsutil's DiffCopy: read the listing, ask only for files that differ from what
// `dest` already holds, write them as they arrive, then delete what the listing no longer has.
import { mkdir } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import type { Stat } from "../gen/fsutil/types/stat_pb.js";
import { PacketSchema, Packet_PacketType as PT, type Packet } from "../gen/fsutil/types/wire_pb.js";
import { GantryError, messageOf } from "../util/errors.js";
import { abortable } from "./abortable.js";
import { ListingOrder } from "./diffcopy-order.js";
import { isDirGoMode, isRegularGoMode } from "./fsutil-stat.js";
import type { PacketConn } from "./packet-conn.js";
import { ReceiveWriter, type WriterOptions } from "./receive-writer.js";

export interface ReceiveOptions extends WriterOptions {
  signal?: AbortSignal;
}

export interface ReceiveStats {
  /** Entries in the listing. */
  entries: number;
  /** Files whose content was transferred, and their bytes. */
  files: number;
  bytes: number;
}

/**
 * Makes `dest` (created if missing) match the sender's tree. Resolves after FIN/FIN and `conn.close()`.
 * Throws on a sender ERR, an invalid listing, a broken stream or abort; local failures are sent as ERR.
 */
export async function receiveDiffCopy(conn: PacketConn, dest: string, opts: ReceiveOptions = {}): Promise<ReceiveStats> {
  await mkdir(dest, { recursive: true });
  const r = new Receiver(conn, new ReceiveWriter(dest, opts));
  try {
    return await r.run(opts.signal);
  } catch (err) {
    if (!(err instanceof PeerAbort)) {
      await conn.send(create(PacketSchema, { type: PT.PACKET_ERR, data: Buffer.from(messageOf(err)) })).catch(() => undefined);
    }
    throw err;
  } finally {
    conn.close();
  }
}

class Receiver {
  readonly #conn: PacketConn;
  readonly #writer: ReceiveWriter;
  readonly #order = new ListingOrder();
  /** Entry id → stat, for files requested and not yet complete. */
  readonly #pending = new Map<number, Stat>();
  #nextId = 0;
  #listingDone = false;
  #finished = false;

  constructor(conn: PacketConn, writer: ReceiveWriter) {
    this.#conn = conn;
    this.#writer = writer;
  }

  async run(signal?: AbortSignal): Promise<ReceiveStats> {
    try {
      let acked = false;
      for await (const p of abortable(this.#conn.incoming, signal)) {
        // After FIN/FIN read on to the end of the stream, so the sender's side completes cleanly.
        if (!acked) acked = await this.#handle(p);
      }
      if (acked) return { entries: this.#nextId, files: this.#writer.files, bytes: this.#writer.bytes };
    } finally {
      await this.#writer.abort();
    }
    throw new GantryError("Unavailable", "The sender closed the file transfer before it finished.");
  }

  /** Returns true once the sender acknowledged our FIN. */
  async #handle(p: Packet): Promise<boolean> {
    switch (p.type) {
      case PT.PACKET_ERR:
        throw new PeerAbort(`The sender aborted the file transfer: ${Buffer.from(p.data).toString()}`);
      case PT.PACKET_STAT:
        if (this.#listingDone) throw new GantryError("InvalidArgument", "The sender listed files after the end of its listing.");
        if (p.stat) await this.#entry(p.stat);
        else this.#listingDone = true;
        break;
      case PT.PACKET_DATA:
        await this.#data(p);
        break;
      case PT.PACKET_FIN:
        if (!this.#finished) throw new GantryError("InvalidArgument", "The sender ended the file transfer before the receiver had everything.");
        return true;
      default:
        break;
    }
    if (this.#listingDone && this.#pending.size === 0 && !this.#finished) {
      this.#finished = true;
      await this.#writer.finish();
      await this.#conn.send(create(PacketSchema, { type: PT.PACKET_FIN }));
    }
    return false;
  }

  async #entry(stat: Stat): Promise<void> {
    // Ids count every entry, requestable or not, exactly as the sender numbers them.
    const id = this.#nextId++;
    this.#order.check(stat.path, isDirGoMode(stat.mode));
    if (!(await this.#writer.entry(stat))) return;
    if (!isRegularGoMode(stat.mode)) return;
    this.#pending.set(id, stat);
    this.#writer.begin(stat);
    await this.#conn.send(create(PacketSchema, { type: PT.PACKET_REQ, ID: id }));
  }

  async #data(p: Packet): Promise<void> {
    const stat = this.#pending.get(p.ID);
    if (!stat) throw new GantryError("InvalidArgument", `The sender sent data for file ${p.ID}, which was not requested.`);
    if (p.data.length > 0) {
      await this.#writer.write(stat.path, p.data);
      return;
    }
    this.#pending.delete(p.ID);
    await this.#writer.end(stat.path);
  }
}

/** The peer sent ERR: not echoed back. */
class PeerAbort extends GantryError {
  constructor(message: string) {
    super("Unavailable", message);
  }
}
