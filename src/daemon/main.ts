#!/usr/bin/env node
// `gantryd`: serves upstream's Control API (and the session stream) for the engine on unix, tcp(+mTLS) or
// systemd sockets. Flags override /etc/gantry/gantryd.toml.
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ConnectRouter } from "@connectrpc/connect";
import { BytesMessageSchema, Control } from "../gen/moby/buildkit/v1/control_pb.js";
import { join } from "node:path";
import { openController } from "../control/controller.js";
import { defaultRoot } from "../control/state-dir.js";
import { SessionManager } from "../session/session-manager.js";
import { GantryError, messageOf } from "../util/errors.js";
import { createControlService } from "./control-service.js";
import { ClientBuilds } from "./client-builds.js";
import { createLlbBridgeService } from "./llb-bridge-service.js";
import { LLBBridge } from "../gen/moby/buildkit/v1/frontend/gateway_pb.js";
import { DEFAULT_ADDRESS, DEFAULT_CONFIG, loadConfigFile, type DaemonConfig } from "./daemon-config.js";
import { startListeners } from "./listeners.js";
import { toGrpcStatus } from "./grpc-status.js";

const MAX_MESSAGE = 64 * 1024 * 1024;

function flagValue(argv: string[], i: number, name: string): string {
  const v = argv[i + 1];
  if (v === undefined) throw new GantryError("InvalidArgument", `Flag ${name} needs a value.`);
  return v;
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
  const ctl = await openController({ root: cfg.root, insecureRegistries: cfg.insecureRegistries, maxParallelism: cfg.maxParallelism });
  const sessions = new SessionManager();
  const scratch = join(cfg.root ?? defaultRoot(), "tmp");
  const builds = new ClientBuilds();
  const service = createControlService(ctl, { get: (id, o) => sessions.getSession(id, o) }, scratch, builds);
  service.session = async function* (requests, ctx) {
    const incoming = (async function* () {
      for await (const m of requests) yield m.data;
    })();
    try {
      for await (const chunk of sessions.handleSession(ctx.requestHeader.entries(), incoming, { signal: ctx.signal })) {
        yield create(BytesMessageSchema, { data: chunk });
      }
    } catch (err) {
      throw toGrpcStatus(err);
    }
  };
  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      router.service(Control, service);
      router.service(LLBBridge, createLlbBridgeService(ctl, builds));
    },
    grpc: true, grpcWeb: false, connect: false,
    readMaxBytes: MAX_MESSAGE, writeMaxBytes: MAX_MESSAGE,
  });
  const listening = await startListeners(handler, cfg.addresses, cfg.tls);
  process.stderr.write(`gantryd listening on ${listening.addresses.join(", ")}\n`);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write("gantryd: shutting down; running builds are canceled\n");
    await listening.close();
    sessions.close();
    await ctl.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

process.env.UV_THREADPOOL_SIZE ??= "16";
main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`gantryd: ${messageOf(err)}\n`);
  process.exit(1);
});
