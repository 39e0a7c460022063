// Merge vertices: stack the trees of two or more inputs, later ones winning.
import { create } from "@bufbuild/protobuf";
import { MergeInputSchema, MergeOpSchema } from "../gen/pb/ops_pb.js";
import { Caps } from "./keys.js";
import { baseOp, type BuiltOp, type MarshalContext, type OpOptions, type Output, type Vertex } from "./vertex.js";

/** A MergeOp over at least two outputs; not platform specific. */
export class MergeVertex implements Vertex {
  readonly #inputs: readonly Output[];
  readonly #opts: OpOptions;

  constructor(inputs: readonly Output[], opts: OpOptions) {
    this.#inputs = [...inputs];
    this.#opts = opts;
  }

  inputs(): readonly Output[] {
    return this.#inputs;
  }

  build(ctx: MarshalContext): BuiltOp {
    const built = baseOp(ctx, this.#opts, [Caps.mergeOp], null);
    const { op } = built;
    // Upstream lists every input, repeats included, so the op mirrors the caller's list.
    op.inputs = this.#inputs.map((o) => ctx.input(o));
    const merge = create(MergeOpSchema, {
      inputs: this.#inputs.map((_, i) => create(MergeInputSchema, { input: BigInt(i) })),
    });
    op.op = { case: "merge", value: merge };
    return built;
  }
}
