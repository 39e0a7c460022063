// The client's edge: a gRPC status back into a GantryError with the same code and message.
import { Code, ConnectError } from "@connectrpc/connect";
import { GantryError, type ErrorCode } from "../util/errors.js";

const CODES: Partial<Record<Code, ErrorCode>> = {
  [Code.InvalidArgument]: "InvalidArgument",
  [Code.NotFound]: "NotFound",
  [Code.AlreadyExists]: "AlreadyExists",
  [Code.FailedPrecondition]: "FailedPrecondition",
  [Code.ResourceExhausted]: "ResourceExhausted",
  [Code.Canceled]: "Canceled",
  [Code.Unavailable]: "Unavailable",
  [Code.Unimplemented]: "Unimplemented",
};

export function fromRpcError(err: unknown): unknown {
  if (!(err instanceof ConnectError)) return err;
  const code = CODES[err.code] ?? "Internal";
  const msg = err.code === Code.Unavailable ? `Cannot reach the daemon: ${err.rawMessage}` : err.rawMessage;
  return new GantryError(code, msg, { cause: err });
}
