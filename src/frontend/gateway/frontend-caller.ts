// An optional ability of a bridge: running another frontend by name on the same build, as upstream's
// LLBBridge Solve does when its request names a Frontend. The Dockerfile frontend forwards `# syntax=`
// builds to `gateway.v0` this way; bridges without it (test fakes) simply do not forward.
import type { FrontendBridge, FrontendResult } from "../frontend.js";

export interface FrontendCaller {
  /**
   * Runs frontend `name` (`dockerfile.v0`, `gateway.v0`) with options `attrs` on this bridge's build and
   * returns its result. InvalidArgument for an unknown frontend; otherwise the frontend's own errors.
   */
  solveFrontend(name: string, attrs: Record<string, string>, opts?: { signal?: AbortSignal }): Promise<FrontendResult>;
}

/** True when `bridge` can run other frontends by name. */
export function canCallFrontends(bridge: FrontendBridge): bridge is FrontendBridge & FrontendCaller {
  return typeof (bridge as Partial<FrontendCaller>).solveFrontend === "function";
}
