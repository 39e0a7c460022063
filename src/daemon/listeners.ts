// Where gantryd listens: unix sockets, TCP (with mTLS when certificates are given) and systemd's
// socket-activated file descriptors, all serving gRPC over HTTP/2.
import { readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createSecureServer, createServer, type Http2Server, type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import { dirname } from "node:path";
import type { connectNodeAdapter } from "@connectrpc/connect-node";
import { WIDE_WINDOW_SETTINGS, widenConnectionWindow } from "../session/grpc-h2-window.js";
import { GantryError } from "../util/errors.js";
import type { TlsConfig } from "./daemon-config.js";

export interface Listening {
  addresses: string[];
  /** Refuses new connections and removes the unix socket files; open connections go on. Idempotent. */
  stopAccepting(): Promise<void>;
  /** Stops accepting, then ends every open connection (a GOAWAY, then destroyed after `graceMs`, default 1 s). */
  close(graceMs?: number): Promise<void>;
}

type AnyServer = Http2Server | Http2SecureServer;
type NodeHandlerFn = ReturnType<typeof connectNodeAdapter>;

function serverFor(handler: NodeHandlerFn, tls: TlsConfig | undefined, tcp: boolean): AnyServer {
  if (tcp && tls) {
    return createSecureServer({
      cert: readFileSync(tls.cert), key: readFileSync(tls.key),
      // With a CA, a client without a certificate signed by it is refused during the handshake.
      ...(tls.ca ? { ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true } : {}),
      allowHTTP1: false,
      settings: WIDE_WINDOW_SETTINGS,
    }, handler);
  }
  return createServer({ settings: WIDE_WINDOW_SETTINGS }, handler);
}

function listen(server: AnyServer, target: string | number | { fd: number }, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = (): void => {
      server.off("error", reject);
      resolve();
    };
    if (typeof target === "object") server.listen(target, done);
    else if (typeof target === "number") server.listen(target, host, done);
    else server.listen(target, done);
  });
}

async function listenOne(handler: NodeHandlerFn, addr: string, tls: TlsConfig | undefined): Promise<{ server: AnyServer; unlink?: string }> {
  const url = new URL(addr);
  switch (url.protocol) {
    case "unix:": {
      const path = url.pathname || url.host;
      await mkdir(dirname(path), { recursive: true });
      await rm(path, { force: true });
      const server = serverFor(handler, undefined, false);
      await listen(server, path);
      return { server, unlink: path };
    }
    case "tcp:": {
      const server = serverFor(handler, tls, true);
      await listen(server, Number(url.port), url.hostname.replace(/^\[|\]$/g, ""));
      return { server };
    }
    case "fd:": {
      const fds = Number(process.env.LISTEN_FDS ?? 0);
      if (!fds) throw new GantryError("InvalidArgument", `--addr ${addr}: no sockets were passed by systemd (LISTEN_FDS is not set).`);
      const server = serverFor(handler, tls, !!tls);
      await listen(server, { fd: 3 });
      return { server };
    }
    default:
      throw new GantryError("InvalidArgument", `--addr ${addr}: use unix://PATH, tcp://HOST:PORT or fd://.`);
  }
}

/** Listens on every address; on failure closes what was opened. */
export async function startListeners(handler: NodeHandlerFn, addresses: string[], tls?: TlsConfig): Promise<Listening> {
  const open: Array<{ server: AnyServer; unlink?: string }> = [];
  try {
    for (const a of addresses) open.push(await listenOne(handler, a, tls));
  } catch (err) {
    for (const o of open) o.server.close();
    throw err;
  }
  const sessions = new Set<ServerHttp2Session>();
  for (const o of open) {
    o.server.on("session", (h2: ServerHttp2Session) => {
      sessions.add(h2);
      widenConnectionWindow(h2); // Session streams carry whole build contexts in
      h2.once("close", () => sessions.delete(h2));
    });
  }
  let closed: Promise<void> | undefined;
  const stopAccepting = async (): Promise<void> => {
    // server.close() settles only when the last connection ends; keep it to await in close().
    closed ??= Promise.all(open.map((o) => new Promise<void>((r) => o.server.close(() => r())))).then(() => undefined);
    for (const o of open) if (o.unlink) await rm(o.unlink, { force: true });
  };
  return {
    addresses,
    stopAccepting,
    async close(graceMs = 1000) {
      await stopAccepting();
      for (const h2 of sessions) h2.close();
      const timer = setTimeout(() => {
        for (const h2 of sessions) h2.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
