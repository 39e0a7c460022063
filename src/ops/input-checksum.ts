// Content checksums of an input's selected paths, for content-based cache keys.
import { checksumQuery, contentChecksum } from "../cache/content-checksum.js";
import type { OpContext } from "../solver/types.js";
import { sha256 } from "../util/digest.js";
import type { OpDeps } from "./op-deps.js";
import type { WorkerRef } from "./worker-ref.js";

export interface ChecksumSpec {
  paths: string[];
  followSymlinks?: boolean;
  wildcard?: boolean;
}

/** sha256 over the checksums of `paths` in `input` (the whole tree when `paths` is empty). */
export async function inputChecksum(deps: OpDeps, input: WorkerRef, spec: ChecksumSpec, ctx: OpContext): Promise<string> {
  const paths = spec.paths.length ? spec.paths : ["/"];
  // A cache hit mostly asks what an earlier build already computed for this very ref: answer it from the
  // memo, sparing the mount and unmount (two process spawns) of a view.
  const ref = input.ref;
  if (ref) {
    const known = paths.map((p) => deps.refs.knownChecksum(ref, checksumQuery(p, spec)));
    if (known.every((k) => k !== undefined)) return sha256(known.join("\0"));
  }
  const view = await deps.refs.mountReadonly(input.ref, { signal: ctx.signal });
  try {
    const sums = await Promise.all(paths.map((p) => contentChecksum(view.dir, p, {
      followSymlinks: spec.followSymlinks, wildcard: spec.wildcard, signal: ctx.signal,
    })));
    return sha256(sums.join("\0"));
  } finally {
    await view.release();
  }
}
