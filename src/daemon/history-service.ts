// Control.ListenBuildHistory and Control.UpdateBuildHistory over the controller's build history, and the
// replay of a finished build's recorded progress for Control.Status (`buildctl debug logs`).
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  UpdateBuildHistoryResponseSchema, type BuildHistoryEvent, type BuildHistoryRequest, type Control, type StatusResponse,
  type UpdateBuildHistoryRequest,
} from "../gen/moby/buildkit/v1/control_pb.js";
import type { BuildHistory } from "../control/build-history.js";
import { GantryError } from "../util/errors.js";
import { toGrpcStatus } from "./grpc-status.js";

type HistoryHandlers = Pick<ServiceImpl<typeof Control>, "listenBuildHistory" | "updateBuildHistory">;

/**
 * The two history RPCs. ListenBuildHistory streams the existing records, then (without EarlyExit) live
 * events until the client goes. UpdateBuildHistory deletes (Delete), or sets Pinned; Finalize (traces)
 * has nothing to wait for here and succeeds. Errors leave as gRPC statuses.
 */
export function createHistoryHandlers(history: BuildHistory): HistoryHandlers {
  return {
    async *listenBuildHistory(req: BuildHistoryRequest, ctx: HandlerContext): AsyncGenerator<BuildHistoryEvent> {
      ctx.responseHeader.set("buildkit-current-timestamp", new Date().toISOString());
      if (req.Filter.length || req.Limit) {
        throw toGrpcStatus(new GantryError("Unimplemented", "ListenBuildHistory's Filter and Limit are not supported by gantryd."));
      }
      try {
        yield* history.listen({ activeOnly: req.ActiveOnly, ref: req.Ref, earlyExit: req.EarlyExit }, { signal: ctx.signal });
      } catch (err) {
        throw toGrpcStatus(err);
      }
    },
    async updateBuildHistory(req: UpdateBuildHistoryRequest) {
      try {
        if (!req.Ref) throw new GantryError("InvalidArgument", "UpdateBuildHistory needs the Ref of a build record.");
        if (req.Delete) await history.delete(req.Ref);
        else if (!req.Finalize) await history.setPinned(req.Ref, req.Pinned);
        return create(UpdateBuildHistoryResponseSchema);
      } catch (err) {
        throw toGrpcStatus(err);
      }
    },
  };
}

/** The recorded progress of the finished build `ref`, as Control.Status messages. */
export async function* replayHistoryLogs(history: BuildHistory, ref: string, signal?: AbortSignal): AsyncGenerator<StatusResponse> {
  try {
    yield* history.logs(ref, { signal });
  } catch (err) {
    throw toGrpcStatus(err);
  }
}
