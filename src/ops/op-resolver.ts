// The map from a decoded pb.Op to the implementation that runs it.
import type { OpResolver } from "../solver/types.js";
import { GantryError } from "../util/errors.js";
import { createDiffOp } from "./diff-op.js";
import { createExecOp } from "./exec-op.js";
import { createFileOp } from "./file-op.js";
import type { LlbPayload } from "./llb-graph.js";
import { createMergeOp } from "./merge-op.js";
import type { OpDeps } from "./op-deps.js";
import { opPlatform } from "./op-platform.js";
import { createImageSourceOp } from "./source-image.js";
import { createLocalSourceOp } from "./source-local.js";
import { createHttpSourceOp } from "./source-http.js";
import { createGitSourceOp } from "./source-git.js";
import type { WorkerRef } from "./worker-ref.js";

export function createLlbOpResolver(deps: OpDeps): OpResolver<LlbPayload, WorkerRef> {
  return (vertex) => {
    const { info, build } = vertex.payload;
    const op = info.op;
    const platform = opPlatform(op, build.platform);
    switch (op.op.case) {
      case "source": {
        const id = op.op.value.identifier;
        const scheme = id.slice(0, Math.max(0, id.indexOf("://")));
        if (scheme === "docker-image") return createImageSourceOp(op.op.value, platform, deps);
        if (scheme === "local") return createLocalSourceOp(op.op.value, build, deps);
        if (scheme === "http" || scheme === "https") return createHttpSourceOp(op.op.value, deps);
        if (scheme === "git") return createGitSourceOp(op.op.value, deps);
        throw new GantryError("Unimplemented", `Source "${id}" is not supported yet (supported: docker-image://, local://, http(s)://, git://).`);
      }
      case "exec":
        return createExecOp(op, op.op.value, platform, build, deps);
      case "file":
        return createFileOp(op, op.op.value, platform, deps);
      case "merge":
        return createMergeOp(op, deps);
      case "diff":
        return createDiffOp(op, deps);
      default:
        throw new GantryError("Unimplemented", `The LLB op "${op.op.case ?? "none"}" of ${vertex.name} is not supported yet.`);
    }
  };
}
