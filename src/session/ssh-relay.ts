// Copies agent bytes between a socket and a message stream, both ways, keeping half-closes: an agent
// client that finishes writing may still be reading the answer.
import type { Duplex } from "node:stream";
import { canceledError } from "../util/errors.js";

/** A stream of byte chunks (one gRPC BytesMessage each, or socket reads). */
export interface ChunkStream {
  /** Chunks from the peer; ends when the peer half-closes, throws when the call fails. */
  readonly incoming: AsyncIterable<Uint8Array>;
  /** Sends one chunk; waits for flow control. */
  send(data: Uint8Array): Promise<void>;
  /** Half-closes this side. */
  closeSend(): void;
}

/**
 * Relays until both directions end; `conn` is destroyed at the end, on failure and on abort. Rejects
 * with the first failure of either direction (Canceled on abort).
 */
export async function relayChunks(conn: Duplex, stream: ChunkStream, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = opts;
  if (signal?.aborted) {
    conn.destroy();
    throw canceledError(signal);
  }
  const onAbort = (): void => void conn.destroy(canceledError(signal));
  signal?.addEventListener("abort", onAbort, { once: true });
  conn.on("error", () => undefined); // failures surface through the copy loops
  try {
    await Promise.all([toConn(conn, stream.incoming), fromConn(conn, stream)].map((p) => p.catch((err: unknown) => {
      conn.destroy();
      throw err;
    })));
  } finally {
    signal?.removeEventListener("abort", onAbort);
    conn.destroy();
  }
  if (signal?.aborted) throw canceledError(signal);
}

async function toConn(conn: Duplex, incoming: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of incoming) {
    if (conn.destroyed) return;
    if (!conn.write(chunk)) await drained(conn);
  }
  if (!conn.destroyed) conn.end();
}

async function fromConn(conn: Duplex, stream: ChunkStream): Promise<void> {
  for await (const chunk of conn.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) await stream.send(chunk);
  stream.closeSend();
}

function drained(conn: Duplex): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      conn.off("drain", done);
      conn.off("close", done);
      resolve();
    };
    conn.once("drain", done);
    conn.once("close", done);
  });
}
