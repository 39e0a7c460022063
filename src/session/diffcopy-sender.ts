// The sending end of fsutil's DiffCopy: list the tree, then serve the files the receiver asks for.
// The listing and the file transfers overlap: requests are served while the walk goes on.
// Speed: packets are sent without waiting for each to be flushed (sends wait only under backpressure);
// files are read with synchronous calls (small files dominate, and Node's async round trip costs more
// than the read), and both loops give the event loop a turn every SLICE_MS so requests keep flowing.
import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as yieldLoop } from "node:timers/promises";
import { Packet_PacketType as PT, type Packet } from "../gen/fsutil/types/wire_pb.js";
import { newPacket } from "./diffcopy-codec.js";
import { GantryError, canceledError, errnoOf, messageOf } from "../util/errors.js";
import { openSendWalk, type WalkOptions } from "./diffcopy-walk.js";
import { isRegularGoMode } from "./fsutil-stat.js";
import { sendPackets, type PacketConn } from "./packet-conn.js";
import { abortable } from "./abortable.js";

/** Chunk size of DATA packets, as fsutil's copy buffer. */
export const DATA_CHUNK = 32 * 1024;
/** Longest stretch of synchronous work before the event loop gets a turn. */
export const SLICE_MS = 10;

export interface SendStats {
  /** Entries listed. */
  entries: number;
  /** Files whose content was requested and sent, and their bytes. */
  files: number;
  bytes: number;
}

/**
 * Sends `root` over `conn` until the receiver says FIN (answered with FIN, then `conn.close()`).
 * Throws on a receiver ERR, a broken stream or abort; a local failure is also reported to the peer as ERR.
 */
export async function sendDiffCopy(conn: PacketConn, root: string, opts: WalkOptions = {}): Promise<SendStats> {
  const s = new Sender(conn, root, opts);
  try {
    return await s.run();
  } finally {
    conn.close();
  }
}

class Sender {
  readonly #conn: PacketConn;
  readonly #root: string;
  readonly #opts: WalkOptions;
  /** Requestable entry id → path; an id is served once. */
  readonly #files = new Map<number, string>();
  readonly #queue: Array<{ id: number; path: string }> = [];
  /** The loop serving `#queue`, while it runs. */
  #serving: Promise<void> | undefined;
  readonly #stop: AbortController;
  readonly #stats: SendStats = { entries: 0, files: 0, bytes: 0 };
  readonly #buf = Buffer.allocUnsafe(DATA_CHUNK);

  constructor(conn: PacketConn, root: string, opts: WalkOptions) {
    this.#conn = conn;
    this.#root = root;
    this.#opts = opts;
    this.#stop = new AbortController();
  }

  async run(): Promise<SendStats> {
    const outer = this.#opts.signal;
    const onAbort = (): void => this.#fail(canceledError(outer));
    if (outer?.aborted) onAbort();
    outer?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.#serve();
    } finally {
      outer?.removeEventListener("abort", onAbort);
    }
  }

  async #serve(): Promise<SendStats> {
    const walking = this.#walk();
    walking.catch((err: unknown) => this.#fail(err));
    try {
      for await (const batch of abortable(this.#conn.incoming, this.#stop.signal)) {
        for (const p of batch) {
          if (p.type === PT.PACKET_ERR) {
            throw new PeerAbort(`The receiver aborted the transfer of ${this.#root}: ${Buffer.from(p.data).toString()}`);
          }
          if (p.type === PT.PACKET_REQ) this.#request(p.ID);
          if (p.type === PT.PACKET_FIN) {
            await walking;
            await this.#idle();
            await this.#conn.send(newPacket(PT.PACKET_FIN));
            return this.#stats;
          }
        }
      }
      throw new GantryError("Unavailable", `The receiver of ${this.#root} closed the stream before it finished.`);
    } catch (err) {
      if (!(err instanceof PeerAbort) && !this.#stop.signal.aborted) await this.#sendErr(err);
      throw err;
    }
  }

  /** Stops the transfer: the peer is told, the receive loop ends with `err`. */
  #fail(err: unknown): void {
    if (this.#stop.signal.aborted) return;
    void this.#sendErr(err);
    this.#stop.abort(err instanceof GantryError ? err : new GantryError("Internal", messageOf(err), { cause: err }));
  }

  /**
   * Lists the tree in slices of about SLICE_MS: each slice's packets go to the connection together (one
   * transport write where it can batch) and the walk waits only for that, so the listing costs one turn
   * and one write per slice instead of several promise hops per entry.
   */
  async #walk(): Promise<void> {
    const walk = await openSendWalk(this.#root, { ...this.#opts, signal: this.#stop.signal });
    let id = 0;
    for (let done = false; !done;) {
      const packets: Packet[] = [];
      const start = performance.now();
      for (;;) {
        const stat = walk.next();
        if (stat === undefined) {
          packets.push(newPacket(PT.PACKET_STAT));
          done = true;
          break;
        }
        if (isRegularGoMode(stat.mode)) this.#files.set(id, stat.path);
        id++;
        packets.push(newPacket(PT.PACKET_STAT, { stat }));
        if ((id & 63) === 0 && performance.now() - start > SLICE_MS) break;
      }
      this.#stats.entries = id;
      await sendPackets(this.#conn, packets);
      if (!done) await yieldLoop();
    }
  }

  #request(id: number): void {
    const path = this.#files.get(id);
    if (path === undefined) throw new GantryError("InvalidArgument", `The receiver asked for file ${id}, which is not a requestable entry.`);
    this.#files.delete(id);
    this.#queue.push({ id, path });
    if (this.#serving) return;
    this.#serving = this.#serveFiles();
    this.#serving.catch((err: unknown) => this.#fail(err));
  }

  /** Sends the requested files in the order asked, until the queue is empty. */
  async #serveFiles(): Promise<void> {
    try {
      let slice = performance.now();
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
        await this.#sendFile(job.id, job.path);
        if (performance.now() - slice > SLICE_MS) {
          await yieldLoop();
          slice = performance.now();
        }
      }
    } finally {
      // Cleared in the same turn the queue was found empty, so a request arriving next starts a new loop.
      this.#serving = undefined;
    }
  }

  async #idle(): Promise<void> {
    while (this.#serving) await this.#serving;
  }

  async #sendFile(id: number, path: string): Promise<void> {
    let fd: number | undefined;
    try {
      fd = openSync(join(this.#root, path), "r");
    } catch (err) {
      // fsutil answers a file it cannot open (removed meanwhile, a socket) with an empty one
      if (errnoOf(err) === undefined) throw err;
    }
    if (fd !== undefined) {
      try {
        for (;;) {
          const bytesRead = readSync(fd, this.#buf, 0, DATA_CHUNK, null);
          if (bytesRead === 0) break;
          this.#stats.bytes += bytesRead;
          // A copy of what was read: the packet may be held (queued, in tests) while the buffer is reused.
          const data = Buffer.allocUnsafe(bytesRead);
          this.#buf.copy(data, 0, 0, bytesRead);
          await this.#conn.send(newPacket(PT.PACKET_DATA, { ID: id, data }));
        }
      } finally {
        closeSync(fd);
      }
    }
    this.#stats.files++;
    await this.#conn.send(newPacket(PT.PACKET_DATA, { ID: id }));
  }

  async #sendErr(err: unknown): Promise<void> {
    await this.#conn.send(newPacket(PT.PACKET_ERR, { data: Buffer.from(messageOf(err)) })).catch(() => undefined);
  }
}


/** The peer sent ERR: not echoed back. */
class PeerAbort extends GantryError {
  constructor(message: string) {
    super("Unavailable", message);
  }
}
