// The receiving end of fsutil's DiffCopy: read the listing, ask only for files that differ from what
// `dest` already holds, write them as they arrive, then delete what the listing no longer has.
// Speed: packets are handled synchronously (see DiffCopyWriter) and requests are sent without waiting
// for each to be flushed; the event loop gets a turn every SLICE_MS.
import { mkdir } from "node:fs/promises";
import { setImmediate as yieldLoop } from "node:timers/promises";
import type { Stat } from "../gen/fsutil/types/stat_pb.js";
import { Packet_PacketType as PT, type Packet } from "../gen/fsutil/types/wire_pb.js";
import { newPacket } from "./diffcopy-codec.js";
import { GantryError, messageOf, throwIfAborted } from "../util/errors.js";
import { abortable } from "./abortable.js";
import { ListingOrder } from "./diffcopy-order.js";
import { isDirGoMode, isRegularGoMode } from "./fsutil-stat.js";
import type { PacketConn } from "./packet-conn.js";
import { DiffCopyWriter, type WriterOptions } from "./diffcopy-writer.js";
import { SLICE_MS } from "./diffcopy-sender.js";
import type { LocalTreeIndex } from "./local-tree-index.js";

export interface ReceiveOptions extends WriterOptions {
  signal?: AbortSignal;
}

export interface ReceiveStats {
  /** Entries in the listing. */
  entries: number;
  /** Files whose content was transferred, and their bytes. */
  files: number;
  bytes: number;
  /** What dest holds afterwards (see diffcopy-index.ts): the next `previousIndex`. Absent when merging. */
  index?: LocalTreeIndex;
}

/**
 * Makes `dest` (created if missing) match the sender's tree; with `opts.previousIndex` dest is not read to
 * compare, only written where the listing differs from the index. Resolves after FIN/FIN and `conn.close()`.
 * Throws on a sender ERR, an invalid listing, a broken stream or abort; local failures are sent as ERR.
 */
export async function receiveDiffCopy(conn: PacketConn, dest: string, opts: ReceiveOptions = {}): Promise<ReceiveStats> {
  const writer = new DiffCopyWriter(dest, opts);
  const r = new Receiver(conn, writer);
  try {
    if (!writer.opensOnDemand) {
      await opts.openDest?.();
      await mkdir(dest, { recursive: true });
    }
    return await r.run(opts.signal);
  } catch (err) {
    if (!(err instanceof PeerAbort)) {
      await conn.send(newPacket(PT.PACKET_ERR, { data: Buffer.from(messageOf(err)) })).catch(() => undefined);
    }
    throw err;
  } finally {
    conn.close();
  }
}

class Receiver {
  readonly #conn: PacketConn;
  readonly #writer: DiffCopyWriter;
  readonly #order = new ListingOrder();
  /** Entry id → stat, for files requested and not yet complete. */
  readonly #pending = new Map<number, Stat>();
  #nextId = 0;
  #listingDone = false;
  #finished = false;

  /** The first failed send: requests are not awaited one by one. */
  #sendFailure: unknown;

  constructor(conn: PacketConn, writer: DiffCopyWriter) {
    this.#conn = conn;
    this.#writer = writer;
  }

  async run(signal?: AbortSignal): Promise<ReceiveStats> {
    try {
      let acked = false;
      let slice = performance.now();
      for await (const batch of abortable(this.#conn.incoming, signal)) {
        for (const p of batch) {
          // After FIN/FIN read on to the end of the stream, so the sender's side completes cleanly.
          if (!acked) {
            const done = this.#handle(p);
            acked = typeof done === "boolean" ? done : await done;
          }
          if (this.#sendFailure !== undefined) throw this.#sendFailure;
          if (performance.now() - slice > SLICE_MS) {
            await yieldLoop();
            throwIfAborted(signal);
            slice = performance.now();
          }
        }
      }
      if (acked) {
        const index = this.#writer.index();
        return { entries: this.#nextId, files: this.#writer.files, bytes: this.#writer.bytes, ...(index ? { index } : {}) };
      }
    } finally {
      this.#writer.abort();
    }
    throw new GantryError("Unavailable", "The sender closed the file transfer before it finished.");
  }

  /** Returns true once the sender acknowledged our FIN; a promise only while a file is being created. */
  #handle(p: Packet): boolean | Promise<boolean> {
    switch (p.type) {
      case PT.PACKET_ERR:
        throw new PeerAbort(`The sender aborted the file transfer: ${Buffer.from(p.data).toString()}`);
      case PT.PACKET_STAT: {
        if (this.#listingDone) throw new GantryError("InvalidArgument", "The sender listed files after the end of its listing.");
        if (!p.stat) {
          this.#listingDone = true;
          break;
        }
        const opening = this.#entry(p.stat);
        if (opening) return opening.then(() => this.#afterPacket());
        break;
      }
      case PT.PACKET_DATA: {
        const writing = this.#data(p);
        if (writing) return writing.then(() => this.#afterPacket());
        break;
      }
      case PT.PACKET_FIN:
        if (!this.#finished) throw new GantryError("InvalidArgument", "The sender ended the file transfer before the receiver had everything.");
        return true;
      default:
        break;
    }
    return this.#afterPacket();
  }

  /** Once the listing is complete and every requested file written: finish and say FIN. */
  #afterPacket(): boolean | Promise<boolean> {
    if (this.#listingDone && this.#pending.size === 0 && !this.#finished) {
      this.#finished = true;
      const finishing = this.#writer.finish();
      if (finishing) return finishing.then(() => this.#sayFin());
      return this.#sayFin();
    }
    return false;
  }

  #sayFin(): false {
    this.#send(newPacket(PT.PACKET_FIN));
    return false;
  }

  /** A promise only while the writer opens dest for this entry. */
  #entry(stat: Stat): void | Promise<void> {
    // Ids count every entry, requestable or not, exactly as the sender numbers them.
    const id = this.#nextId++;
    this.#order.check(stat.path, isDirGoMode(stat.mode));
    const wanted = this.#writer.entry(stat);
    if (typeof wanted !== "boolean") return wanted.then((w) => this.#request(id, stat, w));
    this.#request(id, stat, wanted);
  }

  /** Asks for a file's content when the writer wants it. */
  #request(id: number, stat: Stat, wanted: boolean): void {
    if (!wanted) return;
    if (!isRegularGoMode(stat.mode)) return;
    this.#pending.set(id, stat);
    this.#writer.begin(stat);
    this.#send(newPacket(PT.PACKET_REQ, { ID: id }));
  }

  #data(p: Packet): void | Promise<void> {
    const stat = this.#pending.get(p.ID);
    if (!stat) throw new GantryError("InvalidArgument", `The sender sent data for file ${p.ID}, which was not requested.`);
    if (p.data.length > 0) return this.#writer.write(stat.path, p.data);
    this.#pending.delete(p.ID);
    return this.#writer.end(stat.path);
  }

  #send(p: Packet): void {
    this.#conn.send(p).catch((err: unknown) => (this.#sendFailure ??= err));
  }
}

/** The peer sent ERR: not echoed back. */
class PeerAbort extends GantryError {
  constructor(message: string) {
    super("Unavailable", message);
  }
}
