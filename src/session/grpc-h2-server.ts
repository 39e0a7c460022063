// A minimal gRPC server over one HTTP/2 session: the client side of a build session serves its
// attachables this way over the Session byte pipe. It keeps repeated metadata values apart (from the raw
// header list), which upstream's FileSync relies on for include/exclude patterns.
import { type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { GantryError } from "../util/errors.js";
import { decodeGrpcFrames, encodeGrpcFrame } from "./grpc-frame.js";
import { encodeGrpcMessage, grpcStatusOf } from "./grpc-status.js";

/** Request metadata: lower-case name → every value sent, in order. Pseudo-headers are left out. */
export type CallMetadata = ReadonlyMap<string, readonly string[]>;

/** One incoming call as a handler sees it. Messages are raw protobuf bytes. */
export interface GrpcServerCall {
  readonly path: string;
  readonly metadata: CallMetadata;
  /** The request messages; ends when the caller half-closes. */
  readonly requests: AsyncIterable<Uint8Array>;
  /** Sends one response message; waits while HTTP/2 flow control holds it back. */
  send(message: Uint8Array): Promise<void>;
  /** Aborts when the caller cancels or the connection drops. */
  readonly signal: AbortSignal;
}

/** Serves one call; resolving sends status OK, throwing sends the error's code and message. */
export type GrpcHandler = (call: GrpcServerCall) => Promise<void>;

/** Serves `handlers` (keyed by `/package.Service/Method`) on every stream the peer opens on `session`. */
export function serveGrpc(session: Http2Session, handlers: ReadonlyMap<string, GrpcHandler>): void {
  session.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    void handleStream(stream, headers, raw, handlers);
  });
}

async function handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[],
  handlers: ReadonlyMap<string, GrpcHandler>): Promise<void> {
  stream.on("error", () => undefined); // a reset stream ends the call; the handler sees it through `signal`
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
  let status = { code: 0, message: "" };
  try {
    await handler({
      path,
      metadata: metadataOf(raw),
      // A handler that stops reading early must not reset the stream: its answer is still to be sent.
      requests: decodeGrpcFrames(stream.iterator({ destroyOnReturn: false })),
      send: (message) => writeFrame(stream, message, path),
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

function writeFrame(stream: ServerHttp2Stream, message: Uint8Array, path: string): Promise<void> {
  if (stream.destroyed || stream.writableEnded) {
    return Promise.reject(new GantryError("Canceled", `Cannot answer ${path}: the call has ended.`));
  }
  return new Promise<void>((resolve, reject) => {
    const onClose = (): void => reject(new GantryError("Canceled", `Cannot answer ${path}: the call has ended.`));
    stream.once("close", onClose);
    stream.write(encodeGrpcFrame(message), (err) => {
      stream.off("close", onClose);
      if (err) onClose();
      else resolve();
    });
  });
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
