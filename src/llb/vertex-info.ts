// The per-vertex facts the solver needs to build its graph from a loaded definition, with plain
// numbers instead of protobuf int64s.
import type { Op, OpMetadata } from "../gen/pb/ops_pb.js";
import type { Digest } from "../util/digest.js";
import type { LoadedDefinition, OutputRef } from "./definition.js";
import { vertexNames } from "./vertex-name.js";

/** One vertex as the solver sees it. */
export interface VertexInfo {
  digest: Digest;
  op: Op;
  /** Inputs in `op.inputs` order. */
  inputs: OutputRef[];
  /** Display name: llb.customname or the default name. */
  name: string;
  ignoreCache: boolean;
  description: Record<string, string>;
  progressGroup?: { id: string; name: string; weak: boolean };
  /** The raw metadata entry, when the definition has one. */
  metadata?: OpMetadata;
}

/** Every vertex of a loaded definition (terminal excluded), in definition order. */
export function vertexInfos(def: LoadedDefinition): Map<Digest, VertexInfo> {
  const names = vertexNames(def);
  const out = new Map<Digest, VertexInfo>();
  for (const { digest, op } of def.ops.values()) {
    const md = def.metadata.get(digest);
    const pg = md?.progressGroup;
    out.set(digest, {
      digest,
      op,
      inputs: op.inputs.map((i) => ({ digest: i.digest as Digest, index: Number(i.index) })),
      name: names.get(digest) ?? digest,
      ignoreCache: md?.ignoreCache ?? false,
      description: { ...(md?.description ?? {}) },
      ...(pg ? { progressGroup: { id: pg.id, name: pg.name, weak: pg.weak } } : {}),
      ...(md ? { metadata: md } : {}),
    });
  }
  return out;
}
