// A minimal gRPC server over one HTTP/2 session: the client side of a build session serves its
// attachables this way over the Session byte pipe. It keeps repeated metadata values apart (from the raw
// header list), which upstream's FileSync relies on for include/exclude patterns.
import { type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { GantryError } from "../util/errors.js";
import { FrameWriter, decodeGrpcFrameBatches, decodeGrpcFrames } from "./grpc-frame.js";
import { encodeGrpcMessage, grpcStatusOf } from "./grpc-status.js";

/** Request metadata: lower-case name → every value sent, in order. Pseudo-headers are left out. */
export type CallMetadata = ReadonlyMap<string, readonly string[]>;

/** One incoming call as a handler sees it. Messages are raw protobuf bytes. */
export interface GrpcServerCall {
  readonly path: string;
  readonly metadata: CallMetadata;
  /** The request messages; ends when the caller half-closes. */
  readonly requests: AsyncIterable<Uint8Array>;
  /** The same messages in the batches they arrived in (never empty); read this or `requests`, not both. */
  readonly requestBatches: AsyncIterable<Uint8Array[]>;
  /** Queues one response message; waits only while the stream is backed up (flow control, a slow peer). */
  send(message: Uint8Array): Promise<void>;
  /** Several messages, in order, in one write. */
  sendMany(messages: readonly Uint8Array[]): Promise<void>;
  /** Aborts when the caller cancels or the connection drops. */
  readonly signal: AbortSignal;
}

/** Serves one call; resolving sends status OK, throwing sends the error's code and message. */
export type GrpcHandler = (call: GrpcServerCall) => Promise<void>;

/** Serves `handlers` (keyed by `/package.Service/Method`) on every stream the peer opens on `session`. */
export function serveGrpc(session: Http2Session, handlers: ReadonlyMap<string, GrpcHandler>): void {
  session.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    // Answering a stream that went away mid-way throws; that call is over, the session's others are not.
    handleStream(stream, headers, raw, handlers).catch(() => stream.destroy());
  });
}

async function handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[],
  handlers: ReadonlyMap<string, GrpcHandler>): Promise<void> {
  stream.on("error", () => undefined); // a reset stream ends the call; the handler sees it through `signal`
  // The caller may reset the stream before this runs (a build canceled at once); there is nobody to answer.
  if (stream.destroyed || stream.closed) return;
  const path = String(headers[":path"] ?? "");
  const handler = handlers.get(path);
  if (!handler) {
    stream.respond({
      ":status": 200, "content-type": "application/grpc", "grpc-status": "12",
      "grpc-message": encodeGrpcMessage(`unknown method ${path}`),
    }, { endStream: true });
    return;
  }
  const ac = new AbortController();
  stream.once("close", () => ac.abort(new GantryError("Canceled", `The call to ${path} was canceled by the caller.`)));
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  const writer = new FrameWriter(stream, () => new GantryError("Canceled", `Cannot answer ${path}: the call has ended.`));
  const body = stream.iterator({ destroyOnReturn: false });
  let status = { code: 0, message: "" };
  try {
    await handler({
      path,
      metadata: metadataOf(raw),
      // A handler that stops reading early must not reset the stream: its answer is still to be sent.
      requests: decodeGrpcFrames(body),
      requestBatches: decodeGrpcFrameBatches(body),
      send: (message) => writer.send(message),
      sendMany: (messages) => writer.sendMany(messages),
      signal: ac.signal,
    });
  } catch (err) {
    status = grpcStatusOf(err);
  }
  if (stream.closed || stream.destroyed) return;
  stream.once("wantTrailers", () => {
    const trailers: Record<string, string> = { "grpc-status": String(status.code) };
    if (status.message) trailers["grpc-message"] = encodeGrpcMessage(status.message);
    stream.sendTrailers(trailers);
  });
  stream.end();
  stream.resume(); // discard what the caller still sends so flow control cannot stall its half-close
}

function metadataOf(raw: string[]): CallMetadata {
  const md = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name.startsWith(":")) continue;
    const list = md.get(name);
    if (list) list.push(raw[i + 1]);
    else md.set(name, [raw[i + 1]]);
  }
  return md;
}
