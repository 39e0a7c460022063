// `moby.buildkit.v1.frontend.LLBBridge` for client-driven builds: each call carries the build's ref in
// `buildkit-controlapi-buildid`; the calls of one build share one set of handlers (control/gateway), which
// the gateway frontend also serves over a container's stdio. Sub-solves, file reads and image resolution go
// through that build's bridge; Return ends the parked Control.Solve.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { LLBBridge } from "../gen/moby/buildkit/v1/frontend/gateway_pb.js";
import type { Controller } from "../control/controller.js";
import { LlbBridgeHandlers, pongResponse } from "../control/gateway/llb-bridge-handlers.js";
import { GantryError } from "../util/errors.js";
import type { ClientBuild, ClientBuilds } from "./client-builds.js";
import { toGrpcStatus } from "./grpc-status.js";

/** The header naming the build an LLBBridge call belongs to (the Solve call's Ref). */
export const BUILD_ID_HEADER = "buildkit-controlapi-buildid";

export function createLlbBridgeService(ctl: Controller, builds: ClientBuilds): Partial<ServiceImpl<typeof LLBBridge>> {
  const perBuild = new WeakMap<ClientBuild, LlbBridgeHandlers>();
  const handlersOf = async (ctx: HandlerContext): Promise<LlbBridgeHandlers> => {
    const ref = ctx.requestHeader.get(BUILD_ID_HEADER);
    if (!ref) throw new GantryError("InvalidArgument", `LLBBridge calls need the ${BUILD_ID_HEADER} header.`);
    const b = await builds.get(ref);
    let h = perBuild.get(b);
    if (!h) {
      h = new LlbBridgeHandlers({
        bridge: b.bridge, frontend: (name) => ctl.frontend(name), workers: () => ctl.listWorkers(),
        onReturn: (outcome) => ("error" in outcome ? b.fail(outcome.error) : b.finish(outcome.result)),
      });
      perBuild.set(b, h);
    }
    return h;
  };
  /** Runs `fn` on the call's build; errors cross the edge as gRPC statuses. */
  const on = async <T>(ctx: HandlerContext, fn: (h: LlbBridgeHandlers) => Promise<T>): Promise<T> => {
    try {
      return await fn(await handlersOf(ctx));
    } catch (err) {
      throw toGrpcStatus(err);
    }
  };
  return {
    async ping() {
      return pongResponse(await ctl.listWorkers());
    },
    solve: (req, ctx) => on(ctx, (h) => h.solve(req, ctx.signal)),
    return: (req, ctx) => on(ctx, async (h) => {
      await h.return(req);
      return {};
    }),
    readFile: (req, ctx) => on(ctx, (h) => h.readFile(req, ctx.signal)),
    readDir: (req, ctx) => on(ctx, (h) => h.readDir(req, ctx.signal)),
    statFile: (req, ctx) => on(ctx, (h) => h.statFile(req, ctx.signal)),
    resolveImageConfig: (req, ctx) => on(ctx, (h) => h.resolveImageConfig(req, ctx.signal)),
    inputs: (_req, ctx) => on(ctx, (h) => h.inputs()),
    warn: (req, ctx) => on(ctx, async (h) => {
      h.warn(req);
      return {};
    }),
    evaluate: (req, ctx) => on(ctx, async (h) => {
      await h.evaluate(req, ctx.signal);
      return {};
    }),
  };
}
