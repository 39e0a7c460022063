// LLBBridge's unary methods as routes for the session layer's HTTP/2 gRPC server, over the handlers of
// one frontend run. Container and ExecProcess methods are not served (upstream's interactive debugging).
import { LLBBridge } from "../../gen/moby/buildkit/v1/frontend/gateway_pb.js";
import type { GrpcHandler, GrpcServerCall } from "../../session/grpc-h2-server.js";
import { unaryRoute } from "../../session/grpc-typed.js";
import type { LlbBridgeHandlers } from "./llb-bridge-handlers.js";

/** The routes serving `h`; a call's signal also aborts with `signal` (the build's). */
export function llbBridgeRoutes(h: LlbBridgeHandlers, signal?: AbortSignal): Map<string, GrpcHandler> {
  const sig = (call: GrpcServerCall): AbortSignal => (signal ? AbortSignal.any([call.signal, signal]) : call.signal);
  const m = LLBBridge.method;
  return new Map([
    unaryRoute(m.ping, () => h.ping()),
    unaryRoute(m.solve, (req, call) => h.solve(req, sig(call))),
    unaryRoute(m.return, async (req) => {
      await h.return(req);
      return {};
    }),
    unaryRoute(m.readFile, (req, call) => h.readFile(req, sig(call))),
    unaryRoute(m.readDir, (req, call) => h.readDir(req, sig(call))),
    unaryRoute(m.statFile, (req, call) => h.statFile(req, sig(call))),
    unaryRoute(m.resolveImageConfig, (req, call) => h.resolveImageConfig(req, sig(call))),
    unaryRoute(m.inputs, () => h.inputs()),
    unaryRoute(m.warn, async (req) => {
      h.warn(req);
      return {};
    }),
    unaryRoute(m.evaluate, async (req, call) => {
      await h.evaluate(req, sig(call));
      return {};
    }),
  ]);
}
