// The daemon's edge: Gantry's error codes as gRPC status codes (the only place that knows gRPC codes).
import { Code, ConnectError } from "@connectrpc/connect";
import { codeOf, messageOf, type ErrorCode } from "../util/errors.js";

const CODES: Record<ErrorCode, Code> = {
  InvalidArgument: Code.InvalidArgument,
  NotFound: Code.NotFound,
  AlreadyExists: Code.AlreadyExists,
  FailedPrecondition: Code.FailedPrecondition,
  ResourceExhausted: Code.ResourceExhausted,
  Canceled: Code.Canceled,
  Unavailable: Code.Unavailable,
  Unimplemented: Code.Unimplemented,
  Internal: Code.Unknown,
};

/** A ConnectError carrying the first code down the chain and the user-facing message. */
export function toGrpcStatus(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  return new ConnectError(messageOf(err), CODES[codeOf(err)], undefined, undefined, err);
}
