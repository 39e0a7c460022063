// Control.Session over Gantry's own HTTP/2 gRPC client rather than Connect: upstream's daemon reads each
// `x-docker-expose-session-grpc-method` header field as one method, and Connect (like fetch's Headers)
// folds repeated fields into one comma-joined value, which buildkitd then reads as a single unknown
// method ("no local sources enabled"). The call's bytes feed the client's session server and back.
import { connect as h2Connect, type ClientHttp2Session, type SecureClientSessionOptions } from "node:http2";
import { connect as netConnect } from "node:net";
import { readFileSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BytesMessageSchema, Control } from "../gen/moby/buildkit/v1/control_pb.js";
import type { ClientSession } from "../session/client-session.js";
import { GrpcH2Client, type OutgoingMetadata } from "../session/grpc-h2-client.js";
import { WIDE_WINDOW_SETTINGS, widenConnectionWindow } from "../session/grpc-h2-window.js";
import { methodPath } from "../session/grpc-typed.js";
import { AsyncQueue } from "../util/async-queue.js";
import { GantryError } from "../util/errors.js";

/** Certificates for a `tcp://` daemon address (TLS when `ca` or `cert` is set; mutual with cert and key). */
export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
}

/** Where a daemon listens: a unix socket path, or a TCP `host:port` with or without TLS. */
export type DaemonAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; secure: boolean };

/** Parses `unix://PATH` or `tcp://HOST:PORT`; InvalidArgument for anything else. */
export function parseDaemonAddress(addr: string, tls?: TlsOptions): DaemonAddress {
  let url: URL;
  try {
    url = new URL(addr);
  } catch (err) {
    throw new GantryError("InvalidArgument", `--addr ${addr}: use unix://PATH or tcp://HOST:PORT.`, { cause: err });
  }
  if (url.protocol === "unix:") return { kind: "unix", path: url.pathname || url.host };
  if (url.protocol === "tcp:") return { kind: "tcp", host: url.host, secure: !!(tls?.ca || tls?.cert) };
  throw new GantryError("InvalidArgument", `--addr ${addr}: use unix://PATH or tcp://HOST:PORT.`);
}

/** The node TLS options for `tls` (files read now, so a bad path fails before any call). */
export function tlsConnectOptions(tls?: TlsOptions): SecureClientSessionOptions {
  return {
    ...(tls?.ca ? { ca: readFileSync(tls.ca) } : {}), ...(tls?.cert ? { cert: readFileSync(tls.cert) } : {}),
    ...(tls?.key ? { key: readFileSync(tls.key) } : {}), ...(tls?.serverName ? { servername: tls.serverName } : {}),
  };
}

/** Opens one HTTP/2 connection to the daemon (h2c over unix or tcp, h2 over TLS). */
export function openDaemonH2(addr: DaemonAddress, tls?: TlsOptions): ClientHttp2Session {
  // Wide flow-control windows: exports stream whole images back over this connection.
  const session = addr.kind === "unix"
    ? h2Connect("http://localhost", { createConnection: () => netConnect(addr.path), settings: WIDE_WINDOW_SETTINGS })
    : h2Connect(`${addr.secure ? "https" : "http"}://${addr.host}`, { ...(addr.secure ? tlsConnectOptions(tls) : {}), settings: WIDE_WINDOW_SETTINGS });
  widenConnectionWindow(session);
  return session;
}

/** Header pairs as outgoing metadata: a name given more than once becomes an array, sent field by field. */
export function metadataFromPairs(pairs: Iterable<readonly [string, string]>): OutgoingMetadata {
  const md: OutgoingMetadata = {};
  for (const [rawName, value] of pairs) {
    const name = rawName.toLowerCase();
    const prev = md[name];
    md[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return md;
}

export const SESSION_METHOD = methodPath(Control.method.session);

/**
 * Runs `session` over one Control.Session call on `h2` until the daemon or `signal` ends it. Never throws:
 * a broken session shows up as the build's own error.
 */
export async function attachSession(h2: ClientHttp2Session, session: ClientSession, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const inbox = new AsyncQueue<Uint8Array>();
  let call;
  try {
    call = new GrpcH2Client(h2).stream(SESSION_METHOD, { metadata: metadataFromPairs(session.headers()), signal });
  } catch {
    return;
  }
  const outgoing = session.serve(inbox);
  const pump = (async () => {
    try {
      for await (const chunk of outgoing) await call.send(toBinary(BytesMessageSchema, create(BytesMessageSchema, { data: chunk })));
    } catch {
      // The call ended under us; reading its responses below reports nothing more useful.
    } finally {
      call.closeSend();
    }
  })();
  try {
    for await (const msg of call.responses) inbox.push(fromBinary(BytesMessageSchema, msg).data);
  } catch {
    // The session ends when the build does (or the daemon drops it); errors surface through Solve.
  } finally {
    inbox.end();
    call.cancel();
    await pump;
  }
}
