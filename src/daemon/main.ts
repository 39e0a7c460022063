#!/usr/bin/env node
// `gantryd`: serves upstream's Control API (and the session stream) for the engine on unix, tcp(+mTLS) or
// systemd sockets. Flags override /etc/gantry/gantryd.toml.
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { BytesMessageSchema, Control } from "../gen/moby/buildkit/v1/control_pb.js";
import { join } from "node:path";
import { openController } from "../control/controller.js";
import { defaultRoot } from "../control/state-dir.js";
import { SessionManager } from "../session/session-manager.js";
import { GantryError, messageOf } from "../util/errors.js";
import { createControlService } from "./control-service.js";
import { ClientBuilds } from "./client-builds.js";
import { BUILD_ID_HEADER, createLlbBridgeService } from "./llb-bridge-service.js";
import { BuildCredentialScopes } from "./build-credentials.js";
import { LLBBridge } from "../gen/moby/buildkit/v1/frontend/gateway_pb.js";
import { DEFAULT_ADDRESS, DEFAULT_CONFIG, loadConfigFile, type DaemonConfig } from "./daemon-config.js";
import { startListeners } from "./listeners.js";
import { toGrpcStatus } from "./grpc-status.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { BuildTracker } from "./build-tracker.js";
import { DaemonMetrics } from "./daemon-metrics.js";
import { startDebugServer, type DebugServer } from "./debug-server.js";
import { createHealthService } from "./health-service.js";
import type { Controller } from "../control/controller.js";

const MAX_MESSAGE = 64 * 1024 * 1024;

function flagValue(argv: string[], i: number, name: string): string {
  const v = argv[i + 1];
  if (v === undefined) throw new GantryError("InvalidArgument", `Flag ${name} needs a value.`);
  return v;
}

function seconds(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new GantryError("InvalidArgument", `Flag ${flag} needs a number of seconds, not "${v}".`);
  return n;
}

async function configFrom(argv: string[]): Promise<DaemonConfig> {
  const explicit = argv.indexOf("--config");
  const cfg = await loadConfigFile(explicit >= 0 ? flagValue(argv, explicit, "--config") : DEFAULT_CONFIG, explicit >= 0);
  const addrs: string[] = [];
  const tls: Partial<{ cert: string; key: string; ca: string }> = { ...cfg.tls };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--config": i++; break;
      case "--addr": addrs.push(flagValue(argv, i++, a)); break;
      case "--root": cfg.root = flagValue(argv, i++, a); break;
      case "--debug": cfg.debug = true; break;
      case "--tlscert": tls.cert = flagValue(argv, i++, a); break;
      case "--tlskey": tls.key = flagValue(argv, i++, a); break;
      case "--tlscacert": tls.ca = flagValue(argv, i++, a); break;
      case "--insecure-registry": cfg.insecureRegistries.push(flagValue(argv, i++, a)); break;
      case "--debugaddr": cfg.debugAddress = flagValue(argv, i++, a); break;
      case "--shutdown-grace": cfg.shutdownGraceSeconds = seconds(flagValue(argv, i++, a), a); break;
      default: throw new GantryError("InvalidArgument", `Unknown flag ${a} for gantryd.`);
    }
  }
  if (addrs.length) cfg.addresses = addrs;
  if (!cfg.addresses.length) cfg.addresses = [DEFAULT_ADDRESS];
  if (tls.cert && tls.key) cfg.tls = { cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}) };
  else if (tls.cert || tls.key) throw new GantryError("InvalidArgument", "--tlscert and --tlskey go together.");
  return cfg;
}

async function main(argv: string[]): Promise<void> {
  const cfg = await configFrom(argv);
  const ctl = await openController({
    root: cfg.root, insecureRegistries: cfg.insecureRegistries, maxParallelism: cfg.maxParallelism, history: cfg.history,
  });
  const metrics = new DaemonMetrics();
  const tracker = new BuildTracker(metrics);
  const sessions = new SessionManager();
  const scratch = join(cfg.root ?? defaultRoot(), "tmp");
  const builds = new ClientBuilds();
  const service = createControlService(ctl, { get: (id, o) => sessions.getSession(id, o) }, scratch, builds);
  const credentials = new BuildCredentialScopes((id, o) => sessions.getSession(id, o));
  const solve = service.solve.bind(service);
  // Every build runs under the tracker (counted, canceled when shutdown's grace period ends) and with its
  // client's registry credentials.
  service.solve = async (req, ctx) => {
    try {
      return await tracker.track(ctx.signal, (signal) =>
        credentials.runSolve(req.Ref, req.Session, signal, async () => solve(req, withSignal(ctx, signal))));
    } catch (err) {
      throw toGrpcStatus(err);
    }
  };
  service.session = async function* (requests, ctx) {
    const incoming = (async function* () {
      for await (const m of requests) yield m.data;
    })();
    metrics.sessionsChanged(1);
    try {
      for await (const chunk of sessions.handleSession(ctx.requestHeader.entries(), incoming, { signal: ctx.signal })) {
        yield create(BytesMessageSchema, { data: chunk });
      }
    } catch (err) {
      throw toGrpcStatus(err);
    } finally {
      metrics.sessionsChanged(-1);
    }
  };
  let announceStop!: () => void;
  const stopped = new Promise<void>((resolve) => (announceStop = resolve));
  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      router.service(Control, service);
      router.service(LLBBridge, credentials.scopeUnaryCalls(LLBBridge, createLlbBridgeService(ctl, builds), BUILD_ID_HEADER));
      router.service(Health, createHealthService(() => tracker.accepting, stopped));
    },
    grpc: true, grpcWeb: false, connect: false,
    readMaxBytes: MAX_MESSAGE, writeMaxBytes: MAX_MESSAGE,
  });
  const listening = await startListeners(handler, cfg.addresses, cfg.tls);
  const debug = cfg.debugAddress ? await startDebugServer(cfg.debugAddress, {
    metrics, healthy: () => tracker.accepting, cacheUsage: () => cacheSample(ctl),
  }) : undefined;
  process.stderr.write(`gantryd listening on ${listening.addresses.join(", ")}${debug ? `; debug on ${debug.address}` : ""}\n`);
  const shutdown = createShutdown({ tracker, listening, sessions, ctl, debug, graceMs: (cfg.shutdownGraceSeconds ?? 10) * 1000, announceStop });
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

/** The handler context with another signal (the build's, which shutdown can abort too). */
function withSignal(ctx: HandlerContext, signal: AbortSignal): HandlerContext {
  return Object.create(ctx, { signal: { value: signal } }) as HandlerContext;
}

async function cacheSample(ctl: Controller): Promise<{ records: number; bytes: number }> {
  const records = await ctl.diskUsage([]);
  return { records: records.length, bytes: records.reduce((sum, r) => sum + r.size, 0) };
}

interface ShutdownParts {
  tracker: BuildTracker;
  listening: Awaited<ReturnType<typeof startListeners>>;
  sessions: SessionManager;
  ctl: Controller;
  debug?: DebugServer;
  graceMs: number;
  announceStop: () => void;
}

/**
 * The signal handler: the first signal stops accepting (and removes the sockets), lets running builds
 * finish for the grace period, cancels the rest, then closes everything and exits. A second signal
 * cancels running builds at once.
 */
function createShutdown(p: ShutdownParts): () => void {
  let stopping = false;
  return () => {
    if (stopping) {
      p.tracker.cancelAll();
      return;
    }
    stopping = true;
    p.announceStop();
    const running = p.tracker.size;
    process.stderr.write(`gantryd: shutting down; ${running} running build(s) get ${p.graceMs / 1000} s to finish\n`);
    void (async () => {
      await p.listening.stopAccepting();
      const canceled = await p.tracker.drain(p.graceMs);
      if (canceled) process.stderr.write(`gantryd: canceled ${canceled} build(s) still running after the grace period\n`);
      p.sessions.close();
      await p.listening.close();
      await p.debug?.close();
      await p.ctl.close();
      process.exit(0);
    })().catch((err: unknown) => {
      process.stderr.write(`gantryd: unclean shutdown: ${messageOf(err)}\n`);
      process.exit(1);
    });
  };
}

process.env.UV_THREADPOOL_SIZE ??= "16";
main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`gantryd: ${messageOf(err)}\n`);
  process.exit(1);
});
