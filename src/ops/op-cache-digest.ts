// The op's own key material: the marshalled op without its inputs (their keys are added by the solver,
// so the same step over the same content matches whatever produced that content).
import type { Op } from "../gen/pb/ops_pb.js";
import { marshalOp } from "../llb/marshal.js";
import { sha256 } from "../util/digest.js";

export function opCacheDigest(kind: string, op: Op, platform: string): string {
  return sha256(Buffer.concat([Buffer.from(`${kind}\0${platform}\0`), marshalOp({ ...op, inputs: [] })]));
}
