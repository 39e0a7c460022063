// `local://NAME` sources: the client's directory, copied through the session into a new snapshot. It always
// runs (the client's files may have changed); dependants stay cached through content checksums.
import { randomBytes } from "node:crypto";
import type { SourceOp } from "../gen/pb/ops_pb.js";
import { Attrs } from "../llb/keys.js";
import type { CacheMap, Op, OpContext } from "../solver/types.js";
import { GantryError } from "../util/errors.js";
import type { BuildContext } from "./build-context.js";
import type { OpDeps } from "./op-deps.js";
import { withMounted } from "./with-mounted.js";
import { WorkerRef } from "./worker-ref.js";

function patternsAttr(src: SourceOp, key: string): string[] | undefined {
  const raw = src.attrs[key];
  if (raw === undefined || raw === "") return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  } catch {
    // fall through to the error below
  }
  throw new GantryError("InvalidArgument", `Local source ${src.identifier}: attribute ${key} must be a JSON array of strings.`);
}

export function createLocalSourceOp(src: SourceOp, build: BuildContext, deps: OpDeps): Op<WorkerRef> {
  const name = src.identifier.slice("local://".length);
  const include = patternsAttr(src, Attrs.localIncludePatterns);
  const exclude = patternsAttr(src, Attrs.localExcludePatterns);
  const followPaths = patternsAttr(src, Attrs.localFollowPaths);
  return {
    alwaysRun: true,
    async cacheMap(): Promise<CacheMap<WorkerRef>> {
      // Never matches an earlier build: the directory's content decides, through dependants' checksums.
      return { digest: `random:${randomBytes(16).toString("hex")}`, deps: [] };
    },
    async exec(ctx: OpContext): Promise<WorkerRef[]> {
      const status = `transferring ${name}:`;
      ctx.progress.status(status, 0, 0);
      const mutable = await deps.refs.newMutable(null, { signal: ctx.signal });
      try {
        const stats = await withMounted(mutable, deps.tmpDir, (dir) =>
          build.session.syncLocal(name, dir, { include, exclude, followPaths, signal: ctx.signal }));
        ctx.progress.statusDone(status, stats.bytes, 0);
      } catch (err) {
        await mutable.release();
        throw err;
      }
      return [new WorkerRef(await mutable.commit())];
    },
  };
}
