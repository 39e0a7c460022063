// gRPC status codes and the `grpc-message` encoding, mapped to and from Gantry's error codes, for the
// session's own gRPC calls (the daemon's public edge has its own mapping).
import { GantryError, codeOf, messageOf, type ErrorCode } from "../util/errors.js";

const TO_GRPC: Record<ErrorCode, number> = {
  Canceled: 1,
  InvalidArgument: 3,
  NotFound: 5,
  AlreadyExists: 6,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
};

const FROM_GRPC: Record<number, ErrorCode> = {
  1: "Canceled", 2: "Internal", 3: "InvalidArgument", 4: "Unavailable", 5: "NotFound", 6: "AlreadyExists",
  7: "FailedPrecondition", 8: "ResourceExhausted", 9: "FailedPrecondition", 10: "Unavailable", 11: "InvalidArgument",
  12: "Unimplemented", 13: "Internal", 14: "Unavailable", 15: "Internal", 16: "FailedPrecondition",
};

/** The status a handler's error becomes on the wire. */
export function grpcStatusOf(err: unknown): { code: number; message: string } {
  return { code: TO_GRPC[codeOf(err)], message: messageOf(err) };
}

/** The error a non-OK status becomes for the caller; `what` names the call, e.g. the method path. */
export function errorFromGrpcStatus(code: number, message: string, what: string): GantryError {
  const ec = FROM_GRPC[code] ?? "Internal";
  return new GantryError(ec, message === "" ? `${what} failed with gRPC status ${code}.` : message);
}

/** Percent-encodes as gRPC requires for `grpc-message` (printable ASCII except `%` stays). */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Reverses `encodeGrpcMessage`, leniently: malformed escapes are kept as they are. */
export function decodeGrpcMessage(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value[i] === "%" ? value.slice(i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(value[i], "utf8")) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
