// Diff vertices: the changes that turn one tree into another.
import { create } from "@bufbuild/protobuf";
import { DiffOpSchema, LowerDiffInputSchema, UpperDiffInputSchema } from "../gen/pb/ops_pb.js";
import { Caps } from "./keys.js";
import { baseOp, type BuiltOp, type MarshalContext, type OpOptions, type Output, type Vertex } from "./vertex.js";

/** A DiffOp; an undefined side is the empty tree (-1). */
export class DiffVertex implements Vertex {
  readonly #lower: Output | undefined;
  readonly #upper: Output | undefined;
  readonly #opts: OpOptions;

  constructor(lower: Output | undefined, upper: Output | undefined, opts: OpOptions) {
    this.#lower = lower;
    this.#upper = upper;
    this.#opts = opts;
  }

  inputs(): readonly Output[] {
    return [this.#lower, this.#upper].filter((o): o is Output => o !== undefined);
  }

  build(ctx: MarshalContext): BuiltOp {
    const built = baseOp(ctx, this.#opts, [Caps.diffOp], null);
    const { op } = built;
    const side = (o: Output | undefined): bigint => {
      if (o === undefined) return -1n;
      op.inputs.push(ctx.input(o));
      return BigInt(op.inputs.length - 1);
    };
    const lower = create(LowerDiffInputSchema, { input: side(this.#lower) });
    const upper = create(UpperDiffInputSchema, { input: side(this.#upper) });
    op.op = { case: "diff", value: create(DiffOpSchema, { lower, upper }) };
    return built;
  }
}
