// DiffOp: the changes that turn `lower` into `upper`, as a result of its own.
import type { Op } from "../gen/pb/ops_pb.js";
import type { CacheMap, Op as SolverOp } from "../solver/types.js";
import { opCacheDigest } from "./op-cache-digest.js";
import type { OpDeps } from "./op-deps.js";
import { WorkerRef } from "./worker-ref.js";

export function createDiffOp(op: Op, deps: OpDeps): SolverOp<WorkerRef> {
  return {
    async cacheMap(): Promise<CacheMap<WorkerRef>> {
      return { digest: opCacheDigest("diff", op, ""), deps: op.inputs.map(() => ({})) };
    },
    async exec(ctx, inputs): Promise<WorkerRef[]> {
      const d = op.op.case === "diff" ? op.op.value : undefined;
      const pick = (i: bigint | undefined): WorkerRef | undefined => (i === undefined || i < 0n ? undefined : inputs[Number(i)]);
      const lower = pick(d?.lower?.input)?.ref ?? null;
      const upper = pick(d?.upper?.input)?.ref ?? null;
      return [new WorkerRef(await deps.refs.diff(lower, upper, { signal: ctx.signal }))];
    },
  };
}
