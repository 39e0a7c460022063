// LLBBridge's Result message ⇄ a frontend's result. A ref names a result by id (one this server handed
// out) and may carry its definition inline; a ref map carries one per platform, whose image configs sit
// in the shared metadata under `containerimage.config/<platform>`, as upstream's frontends write them.
import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { RefSchema, ResultSchema, type Ref, type Result } from "../../gen/moby/buildkit/v1/frontend/gateway_pb.js";
import { DefinitionSchema } from "../../gen/pb/ops_pb.js";
import type { FrontendResult } from "../../frontend/frontend.js";
import { marshalDefinitionMessage } from "../../llb/marshal.js";
import { GantryError } from "../../util/errors.js";

const CONFIG_KEY = "containerimage.config";

/** A result the server knows by id: its definition and the metadata it came with. */
export interface KnownResult {
  definition: Uint8Array;
  metadata: Record<string, Uint8Array>;
}

/** The definition a Ref stands for: inline when sent, else the known result's. NotFound for an unknown id. */
export function definitionOfRef(ref: Ref, known: (id: string) => KnownResult | undefined): Uint8Array {
  if (ref.def) return marshalDefinitionMessage(ref.def);
  if (ref.id === "") return new Uint8Array(); // an empty ref is the empty filesystem
  const k = known(ref.id);
  if (!k) throw new GantryError("NotFound", `The frontend returned an unknown result id "${ref.id}".`);
  return k.definition;
}

/** The FrontendResult a Return's Result describes. InvalidArgument when it holds no result at all. */
export function frontendResultOf(res: Result | undefined, known: (id: string) => KnownResult | undefined): FrontendResult {
  const metadata = { ...(res?.metadata ?? {}) };
  const r = res?.result;
  switch (r?.case) {
    case "ref":
      return { definition: definitionOfRef(r.value, known), metadata: { ...known(r.value.id)?.metadata, ...metadata } };
    case "refDeprecated":
      return { definition: definitionOfRef(create(RefSchema, { id: r.value }), known), metadata: { ...known(r.value)?.metadata, ...metadata } };
    case "refs": {
      const refs: NonNullable<FrontendResult["refs"]> = {};
      for (const [platform, ref] of Object.entries(r.value.refs)) {
        const config = metadata[`${CONFIG_KEY}/${platform}`];
        refs[platform] = { definition: definitionOfRef(ref, known), metadata: config ? { [CONFIG_KEY]: config } : {} };
      }
      const first = Object.values(refs)[0];
      if (!first) throw new GantryError("InvalidArgument", "The frontend returned an empty map of results.");
      return { definition: first.definition, metadata, refs };
    }
    case "refsDeprecated":
      throw new GantryError("Unimplemented", "The frontend returned a deprecated map of result ids, which Gantry does not accept.");
    default:
      throw new GantryError("InvalidArgument", "The frontend returned no result.");
  }
}

/** The Result message for a frontend result whose parts were registered under `ids` (platform → id). */
export function resultMessageOf(res: FrontendResult, ids: { single: string; refs?: Record<string, string> }): MessageInitShape<typeof ResultSchema> {
  const defOf = (bytes: Uint8Array) => (bytes.length ? { def: fromBinary(DefinitionSchema, bytes) } : {});
  if (!res.refs || !ids.refs) {
    return { result: { case: "ref", value: { id: ids.single, ...defOf(res.definition) } }, metadata: res.metadata };
  }
  const metadata: Record<string, Uint8Array> = { ...res.metadata };
  const refs: Record<string, { id: string; def?: ReturnType<typeof fromBinary<typeof DefinitionSchema>> }> = {};
  for (const [platform, part] of Object.entries(res.refs)) {
    refs[platform] = { id: ids.refs[platform] ?? "", ...defOf(part.definition) };
    const config = part.metadata[CONFIG_KEY];
    if (config) metadata[`${CONFIG_KEY}/${platform}`] = config;
  }
  return { result: { case: "refs", value: { refs } }, metadata };
}
