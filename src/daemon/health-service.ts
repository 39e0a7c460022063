// grpc.health.v1.Health on gantryd's main listeners, as upstream registers it on buildkitd's: the
// server as a whole ("") and the Control service report SERVING until shutdown begins.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";

const KNOWN = new Set(["", "moby.buildkit.v1.Control"]);

/** The Health service; `serving()` is read at each call, `stopped` settles when shutdown begins. */
export function createHealthService(serving: () => boolean, stopped: Promise<void>): ServiceImpl<typeof Health> {
  const statusOf = (service: string): Status => {
    if (!KNOWN.has(service)) throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    return serving() ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    check(req) {
      return create(HealthCheckResponseSchema, { status: statusOf(req.service) });
    },
    async *watch(req, ctx) {
      const first = statusOf(req.service);
      yield create(HealthCheckResponseSchema, { status: first });
      if (first !== Status.SERVING) return;
      const aborted = new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      await Promise.race([stopped, aborted]);
      if (!ctx.signal.aborted) yield create(HealthCheckResponseSchema, { status: Status.NOT_SERVING });
    },
  };
}
