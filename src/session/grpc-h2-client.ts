// A minimal gRPC client over one HTTP/2 session: enough for the calls the daemon makes back to a client
// (unary and bidi streams, metadata with repeated values, deadlines, cancellation). Generic gRPC
// libraries fold repeated metadata into one comma-joined value, which upstream peers read as one
// pattern; sending each value as its own header field is why this exists.
import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { GantryError, canceledError, messageOf } from "../util/errors.js";
import { FrameWriter, decodeGrpcFrameBatches } from "./grpc-frame.js";
import { decodeGrpcMessage, errorFromGrpcStatus } from "./grpc-status.js";

/** Request metadata: lower-case names; an array value is sent as one header field per element. */
export type OutgoingMetadata = Record<string, string | string[]>;

export interface GrpcCallOptions {
  metadata?: OutgoingMetadata;
  signal?: AbortSignal;
  /** Deadline for the whole call; sent as `grpc-timeout` and enforced here (Unavailable when passed). */
  timeoutMs?: number;
}

/** One open call. Messages are raw protobuf bytes; the caller encodes and decodes them. */
export interface GrpcClientStream {
  /**
   * Queues one message; waits only while the stream is backed up (HTTP/2 flow control, a slow peer), so
   * back-to-back sends travel together. Unavailable once the call ended.
   */
  send(message: Uint8Array): Promise<void>;
  /** Half-closes: the server sees the end of the request stream. */
  closeSend(): void;
  /** The response messages; ends after an OK status, throws the status as a GantryError otherwise. */
  readonly responses: AsyncIterable<Uint8Array>;
  /** The same messages in the batches they arrived in (never empty); read this or `responses`, not both. */
  readonly responseBatches: AsyncIterable<Uint8Array[]>;
  /** Aborts the call (RST_STREAM CANCEL). */
  cancel(): void;
}

/** Calls methods on the gRPC server at the other end of `session`. Does not own the session. */
export class GrpcH2Client {
  readonly #session: ClientHttp2Session;

  constructor(session: ClientHttp2Session) {
    this.#session = session;
  }

  /** Opens a call to `path` (`/package.Service/Method`). */
  stream(path: string, opts: GrpcCallOptions = {}): GrpcClientStream {
    if (opts.signal?.aborted) throw canceledError(opts.signal);
    if (this.#session.closed || this.#session.destroyed) {
      throw new GantryError("Unavailable", `Cannot call ${path}: the session connection is closed.`);
    }
    const headers: Record<string, string | string[]> = {
      ...opts.metadata,
      ":method": "POST",
      ":path": path,
      ":authority": "localhost",
      ":scheme": "http",
      "content-type": "application/grpc",
      te: "trailers",
    };
    if (opts.timeoutMs !== undefined) headers["grpc-timeout"] = `${Math.max(1, Math.ceil(opts.timeoutMs))}m`;
    const req = this.#session.request(headers);
    return new ClientCall(req, path, opts);
  }

  /** A unary call: one request, one response message. */
  async unary(path: string, request: Uint8Array, opts: GrpcCallOptions = {}): Promise<Uint8Array> {
    const call = this.stream(path, opts);
    let response: Uint8Array | undefined;
    try {
      await call.send(request);
      call.closeSend();
      for await (const msg of call.responses) {
        if (response !== undefined) throw new GantryError("Internal", `${path} answered a unary call with more than one message.`);
        response = msg;
      }
    } finally {
      call.cancel();
    }
    if (response === undefined) throw new GantryError("Internal", `${path} answered a unary call with no message.`);
    return response;
  }
}

class ClientCall implements GrpcClientStream {
  readonly #req: ClientHttp2Stream;
  readonly #path: string;
  readonly #signal?: AbortSignal;
  #status: { code: number; message: string } | undefined;
  #failure: Error | undefined;
  readonly #cleanup: () => void;
  #closeEmitted = false;
  readonly #writer: FrameWriter;
  readonly responses: AsyncIterable<Uint8Array>;
  readonly responseBatches: AsyncIterable<Uint8Array[]>;

  constructor(req: ClientHttp2Stream, path: string, opts: GrpcCallOptions) {
    this.#req = req;
    this.#path = path;
    this.#signal = opts.signal;
    this.#writer = new FrameWriter(req, () => this.#endedError());
    const onStatus = (h: IncomingHttpHeaders): void => {
      const code = h["grpc-status"];
      if (typeof code === "string") this.#status = { code: Number(code), message: decodeGrpcMessage(String(h["grpc-message"] ?? "")) };
    };
    req.on("response", onStatus);
    req.on("trailers", onStatus);
    // Errors surface through `responses`; keep one so an unread call does not crash the process.
    req.on("error", (err: Error) => (this.#failure ??= err));
    const onAbort = (): void => {
      this.#failure ??= canceledError(opts.signal);
      req.close(constants.NGHTTP2_CANCEL);
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      this.#failure ??= new GantryError("Unavailable", `${path} did not answer within ${opts.timeoutMs} ms.`);
      req.close(constants.NGHTTP2_CANCEL);
    }, opts.timeoutMs);
    this.#cleanup = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    req.on("close", this.#cleanup);
    req.once("close", () => (this.#closeEmitted = true));
    this.responseBatches = this.#read();
    this.responses = flatten(this.responseBatches);
  }

  send(message: Uint8Array): Promise<void> {
    return this.#writer.send(message);
  }

  closeSend(): void {
    if (!this.#req.writableEnded && !this.#req.destroyed) this.#req.end();
  }

  cancel(): void {
    if (!this.#req.closed) this.#req.close(constants.NGHTTP2_CANCEL);
    this.#cleanup();
  }

  async *#read(): AsyncGenerator<Uint8Array[]> {
    try {
      yield* decodeGrpcFrameBatches(this.#req);
    } catch (err) {
      throw this.#failure instanceof GantryError ? this.#failure : this.#transportError(err);
    }
    if (this.#failure instanceof GantryError) throw this.#failure;
    // Node can end the body (and mark the stream closed) before it emits the trailers that carry the status,
    // as it does with grpc-go peers: wait for the trailers or the 'close' event itself.
    if (!this.#status && !this.#closeEmitted) {
      await new Promise<void>((resolve) => {
        this.#req.once("trailers", () => setImmediate(resolve));
        this.#req.once("close", resolve);
      });
    }
    const status = this.#status;
    if (!status) throw this.#transportError(this.#failure);
    if (status.code !== 0) throw errorFromGrpcStatus(status.code, status.message, this.#path);
  }

  #endedError(): GantryError {
    if (this.#failure instanceof GantryError) return this.#failure;
    if (this.#signal?.aborted) return canceledError(this.#signal);
    return new GantryError("Unavailable", `Cannot send to ${this.#path}: the call has ended.`);
  }

  #transportError(cause: unknown): GantryError {
    if (cause instanceof GantryError) return cause;
    const why = cause === undefined ? "the stream ended without a status" : messageOf(cause);
    return new GantryError("Unavailable", `The call to ${this.#path} broke off: ${why}.`, { cause });
  }
}

async function* flatten<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}
