// Test helper: the ops of a conversion, decoded, with their display names.

import { fromBinary } from "@bufbuild/protobuf";
import { OpSchema, type Op } from "../../../../gen/pb/ops_pb.js";
import { sha256 } from "../../../../util/digest.js";
import type { ConvertResult } from "../dockerfile-to-llb.js";

/** One marshalled op with its digest and `llb.customname`. */
export interface DecodedOp {
  digest: string;
  op: Op;
  name: string;
}

/** Every op of the result (terminal excluded), in definition order. */
export function decodeOps(result: ConvertResult): DecodedOp[] {
  const { def, metadata } = result.state.marshal(result.marshalOptions);
  return def.slice(0, -1).map((bytes) => {
    const digest = sha256(bytes);
    return { digest, op: fromBinary(OpSchema, bytes), name: metadata.get(digest)?.description["llb.customname"] ?? "" };
  });
}

/** The exec ops. */
export function execOps(result: ConvertResult): DecodedOp[] {
  return decodeOps(result).filter((o) => o.op.op.case === "exec");
}
