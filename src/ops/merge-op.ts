// MergeOp: the inputs stacked in order, later winning; no copying on the overlay snapshotter.
import type { Op } from "../gen/pb/ops_pb.js";
import type { CacheMap, Op as SolverOp } from "../solver/types.js";
import { opCacheDigest } from "./op-cache-digest.js";
import type { OpDeps } from "./op-deps.js";
import { WorkerRef } from "./worker-ref.js";

export function createMergeOp(op: Op, deps: OpDeps): SolverOp<WorkerRef> {
  return {
    async cacheMap(): Promise<CacheMap<WorkerRef>> {
      return { digest: opCacheDigest("merge", op, ""), deps: op.inputs.map(() => ({})) };
    },
    async exec(ctx, inputs): Promise<WorkerRef[]> {
      const merge = op.op.case === "merge" ? op.op.value : undefined;
      const order = merge?.inputs.map((m) => Number(m.input)) ?? [];
      const refs = order.map((i) => (i < 0 ? null : inputs[i].ref));
      return [new WorkerRef(await deps.refs.merge(refs, { signal: ctx.signal }))];
    },
  };
}
