// `gateway.v0`: a frontend shipped as a container image (`--opt source=<image>`, what `# syntax=` selects).
// The image is resolved and pulled through the build's bridge, its entrypoint runs in a container on a
// throwaway writable snapshot of it, and the container's stdin/stdout carry an HTTP/2 connection on
// which the process is the gRPC client and the engine serves LLBBridge over the same bridge in-process
// frontends use. The frontend's Return carries the result; its exit status and stderr explain failures.
import { performServerHandshake } from "node:http2";
import type { Frontend, FrontendBridge, FrontendResult } from "../../frontend/frontend.js";
import { gatewayEnv, type GatewayWorker } from "../../frontend/gateway/gateway-env.js";
import type { ProcessSpec } from "../../executor/executor.js";
import { image, marshalDefinition } from "../../llb/state.js";
import { parsePlatform } from "../../oci/platform.js";
import type { ContainerConfig, ImageConfig } from "../../oci/types.js";
import type { OpDeps } from "../../ops/op-deps.js";
import type { Mount } from "../../snapshot/snapshotter.js";
import { serveGrpc } from "../../session/grpc-h2-server.js";
import { GantryError, messageOf } from "../../util/errors.js";
import { EngineBridge } from "../frontend-bridge.js";
import { createContainerStdio } from "./container-stdio.js";
import { LlbBridgeHandlers, type BridgeWorker, type ReturnOutcome } from "./llb-bridge-handlers.js";
import { llbBridgeRoutes } from "./llb-bridge-routes.js";

const STDERR_TAIL_LINES = 10;

export interface GatewayFrontendOptions {
  /** The worker's executor and snapshots the frontend container runs on. */
  deps: Pick<OpDeps, "executor" | "refs">;
  /** Built-in frontends by name, for a gateway frontend that asks for one. */
  frontend(name: string): Frontend | undefined;
  /** The workers reported to the frontend (Ping, BUILDKIT_WORKERS). */
  workers(): Promise<BridgeWorker[]>;
}

/**
 * Creates `gateway.v0`. `solve` needs the engine's own bridge (InvalidArgument without `source`,
 * FailedPrecondition on another bridge); it rejects with the frontend's error when it returns one, and
 * with FailedPrecondition naming the image, exit status and last stderr lines when the process fails or
 * ends without Return. Abort kills the container.
 */
export function createGatewayFrontend(opts: GatewayFrontendOptions): Frontend {
  return { solve: (bridge, attrs, o) => solveGateway(opts, bridge, attrs, o.signal) };
}

async function solveGateway(o: GatewayFrontendOptions, bridge: FrontendBridge, attrs: Record<string, string>,
  signal?: AbortSignal): Promise<FrontendResult> {
  const source = attrs.source;
  if (!source) throw new GantryError("InvalidArgument", "The gateway.v0 frontend needs the image to run: --opt source=<image ref>.");
  if (!(bridge instanceof EngineBridge)) {
    throw new GantryError("FailedPrecondition", `Cannot run frontend image ${source}: gateway frontends run only inside the engine.`);
  }
  const resolved = await bridge.resolveImageConfig(source, signal ? { signal } : {});
  const config = containerConfigOf(resolved.config, source);
  const pinned = resolved.ref.includes("@") ? resolved.ref : `${resolved.ref}@${resolved.digest}`;
  const ref = await bridge.solve(marshalDefinition(image(pinned, { recordType: "frontend" })), signal ? { signal } : {});
  const root = bridge.resultOf(ref);
  // A scratch layer over the image, discarded afterwards, as upstream gives the frontend a writable root.
  const rootfs = await o.deps.refs.newMutable(root.ref, { signal });
  try {
    const workers = await o.workers();
    const spec: ProcessSpec = {
      args: config.Entrypoint?.length ? config.Entrypoint : ["/run"],
      env: [...(config.Env ?? []), ...gatewayEnv(attrs, { sessionId: bridge.sessionId, workers: workers.map(gatewayWorker) })],
      cwd: config.WorkingDir || "/",
      user: "0",
      // The frontend talks to the engine over stdio only; upstream's default network would be the host's.
      network: "none",
    };
    return await runFrontend(o, { bridge, spec, source, mounts: await rootfs.mounts(), signal });
  } finally {
    await rootfs.release();
  }
}

/** Runs the frontend process with LLBBridge served on its stdio; settles once it has exited. */
async function runFrontend(o: GatewayFrontendOptions, x: {
  bridge: EngineBridge; spec: ProcessSpec; source: string; mounts: Mount[];
  signal?: AbortSignal;
}): Promise<FrontendResult> {
  let outcome: ReturnOutcome | undefined;
  const handlers = new LlbBridgeHandlers({
    bridge: x.bridge, frontend: o.frontend, workers: o.workers, onReturn: (r) => (outcome = r),
  });
  const stdio = createContainerStdio();
  const h2 = performServerHandshake(stdio.duplex);
  h2.on("error", () => undefined); // the connection ends with the process; its exit status tells what happened
  serveGrpc(h2, llbBridgeRoutes(handlers, x.signal));
  const stderr = new LineTail(STDERR_TAIL_LINES);
  let exitCode: number;
  try {
    ({ exitCode } = await o.deps.executor.run(x.mounts, [], {
      ...x.spec, stdin: stdio.stdin, output: (stream, data) => (stream === 1 ? stdio.pushStdout(data) : stderr.push(data)),
    }, { signal: x.signal }));
  } finally {
    stdio.end();
    h2.destroy();
  }
  return outcomeOf(outcome, exitCode, x.source, stderr.lines());
}

/** Upstream's precedence: the frontend's own error, then a failed process, then the returned result. */
function outcomeOf(outcome: ReturnOutcome | undefined, exitCode: number, source: string, stderr: string[]): FrontendResult {
  if (outcome && "error" in outcome) throw outcome.error;
  const tail = stderr.length ? `; its last output:\n${stderr.join("\n")}` : "";
  if (exitCode !== 0) {
    throw new GantryError("FailedPrecondition", `The frontend image ${source} exited with code ${exitCode}${outcome ? " after returning" : " without returning a result"}${tail}`);
  }
  if (!outcome) throw new GantryError("FailedPrecondition", `The frontend image ${source} exited without returning a result${tail}`);
  return outcome.result;
}

function containerConfigOf(raw: Uint8Array, source: string): ContainerConfig {
  try {
    const parsed = JSON.parse(Buffer.from(raw).toString("utf8")) as ImageConfig;
    return parsed.config ?? {};
  } catch (err) {
    throw new GantryError("InvalidArgument", `Cannot read the image config of frontend image ${source}: ${messageOf(err)}`, { cause: err });
  }
}

function gatewayWorker(w: BridgeWorker): GatewayWorker {
  return {
    ID: w.id, Labels: w.labels,
    Platforms: w.platforms.map(parsePlatform).map((p) => ({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) })),
  };
}

/** The last `max` lines of a byte stream, for error messages. */
class LineTail {
  readonly #max: number;
  readonly #lines: string[] = [];
  #partial = "";

  constructor(max: number) {
    this.#max = max;
  }

  push(data: Uint8Array): void {
    const parts = (this.#partial + Buffer.from(data).toString("utf8")).split("\n");
    this.#partial = parts.pop() ?? "";
    this.#lines.push(...parts);
    if (this.#lines.length > this.#max) this.#lines.splice(0, this.#lines.length - this.#max);
  }

  lines(): string[] {
    return (this.#partial ? [...this.#lines, this.#partial] : this.#lines).slice(-this.#max);
  }
}
