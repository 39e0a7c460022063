// gantryd's debug address (`--debugaddr`, `[grpc] debugAddress`): plain HTTP with health, Prometheus
// metrics and expvar-style process facts. Like upstream's, it is opt-in and unauthenticated: who may
// connect is decided by the address it listens on.
import { mkdir, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { GantryError, messageOf } from "../util/errors.js";
import type { CacheSample, DaemonMetrics } from "./daemon-metrics.js";

export interface DebugServerOptions {
  metrics: DaemonMetrics;
  /** False while the daemon is shutting down: health then answers 503. */
  healthy: () => boolean;
  /** The cache's size, read at most every few seconds (it scans the metadata DB). */
  cacheUsage: () => Promise<CacheSample>;
}

export interface DebugServer {
  /** Where it listens: `host:port` (the real port when 0 was asked) or the unix socket path. */
  readonly address: string;
  close(): Promise<void>;
}

const CACHE_SAMPLE_MS = 5000;

/**
 * Listens on `addr` (`host:port`, `tcp://host:port` or `unix:///path`) and serves `/debug/health`,
 * `/metrics`, `/debug/vars`. InvalidArgument for an address it cannot parse.
 */
export async function startDebugServer(addr: string, opts: DebugServerOptions): Promise<DebugServer> {
  const target = parseDebugAddress(addr);
  const sampleCache = cachedSampler(opts.cacheUsage);
  const server = createServer((req, res) => void route(req, res, opts, sampleCache));
  if ("path" in target) {
    await mkdir(dirname(target.path), { recursive: true });
    await rm(target.path, { force: true });
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = (): void => {
      server.off("error", reject);
      resolve();
    };
    if ("path" in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
  return {
    address: "path" in target ? target.path : hostPort(server),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if ("path" in target) await rm(target.path, { force: true });
    },
  };
}

/** Parses a debug address; a bare `host:port` means TCP, as upstream's does. */
export function parseDebugAddress(addr: string): { host: string; port: number } | { path: string } {
  const withScheme = addr.includes("://") ? addr : `tcp://${addr}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (err) {
    throw new GantryError("InvalidArgument", `Invalid --debugaddr "${addr}": use HOST:PORT, tcp://HOST:PORT or unix://PATH.`, { cause: err });
  }
  if (url.protocol === "unix:") return { path: url.pathname || url.host };
  if (url.protocol !== "tcp:" || url.port === "") {
    throw new GantryError("InvalidArgument", `Invalid --debugaddr "${addr}": use HOST:PORT, tcp://HOST:PORT or unix://PATH.`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) };
}

async function route(req: IncomingMessage, res: ServerResponse, opts: DebugServerOptions,
  sampleCache: () => Promise<CacheSample | undefined>): Promise<void> {
  const path = new URL(req.url ?? "/", "http://debug").pathname;
  try {
    switch (path) {
      case "/debug/health": {
        const ok = opts.healthy();
        reply(res, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ok\n" : "shutting down\n");
        return;
      }
      case "/metrics":
        reply(res, 200, "text/plain; version=0.0.4; charset=utf-8", opts.metrics.render(await sampleCache()));
        return;
      case "/debug/vars":
        reply(res, 200, "application/json; charset=utf-8", `${JSON.stringify(vars(opts), null, 2)}\n`);
        return;
      default:
        reply(res, 404, "text/plain; charset=utf-8", "404 page not found\n");
    }
  } catch (err) {
    reply(res, 500, "text/plain; charset=utf-8", `${messageOf(err)}\n`);
  }
}

function vars(opts: DebugServerOptions): Record<string, unknown> {
  return {
    cmdline: process.argv,
    pid: process.pid,
    uptimeSeconds: Math.round(process.uptime()),
    memstats: process.memoryUsage(),
    resourceUsage: process.resourceUsage(),
    buildsRunning: opts.metrics.running,
    versions: process.versions,
  };
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Reads the cache size at most every few seconds; undefined while it cannot be read. */
function cachedSampler(read: () => Promise<CacheSample>): () => Promise<CacheSample | undefined> {
  let last: { at: number; sample: CacheSample } | undefined;
  let pending: Promise<CacheSample | undefined> | undefined;
  return () => {
    if (last && Date.now() - last.at < CACHE_SAMPLE_MS) return Promise.resolve(last.sample);
    pending ??= read().then((sample) => {
      last = { at: Date.now(), sample };
      return sample;
    }, () => undefined).finally(() => (pending = undefined));
    return pending;
  };
}

function hostPort(server: Server): string {
  const a = server.address() as AddressInfo;
  return a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
