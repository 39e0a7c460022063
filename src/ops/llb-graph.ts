// Turns a loaded LLB definition into the solver's graph: one Vertex per op, inputs as edges, carrying
// the decoded op and the build it belongs to.
import type { LoadedDefinition } from "../llb/definition.js";
import { vertexInfos, type VertexInfo } from "../llb/vertex-info.js";
import type { Edge, Vertex } from "../solver/types.js";
import type { Digest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import type { BuildContext } from "./build-context.js";

export interface LlbPayload {
  info: VertexInfo;
  build: BuildContext;
}

export type LlbVertex = Vertex<LlbPayload>;
export type LlbEdge = Edge<LlbPayload>;

/** The edge of the definition's result, with every vertex it depends on built once. */
export function llbGraph(def: LoadedDefinition, build: BuildContext, opts: { noCache?: boolean } = {}): LlbEdge {
  const infos = vertexInfos(def);
  const built = new Map<Digest, LlbVertex>();
  const vertexOf = (digest: Digest): LlbVertex => {
    const done = built.get(digest);
    if (done) return done;
    const info = infos.get(digest);
    if (!info) throw new GantryError("InvalidArgument", `The LLB definition refers to an unknown op ${digest}.`);
    const v: LlbVertex = {
      digest,
      name: info.name,
      inputs: info.inputs.map((i) => ({ vertex: vertexOf(i.digest), index: i.index })),
      payload: { info, build },
      options: {
        ignoreCache: info.ignoreCache || opts.noCache === true,
        description: info.description,
        ...(info.progressGroup ? { progressGroup: info.progressGroup } : {}),
      },
    };
    built.set(digest, v);
    return v;
  };
  return { vertex: vertexOf(def.terminal.digest), index: def.terminal.index };
}
