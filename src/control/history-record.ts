// Pieces of a build history record that come from a build's outcome: the error as a google.rpc.Status and
// the result descriptors from the exporter response.
import { create, toBinary } from "@bufbuild/protobuf";
import {
  BuildResultInfoSchema, DescriptorSchema, type BuildResultInfo, type Descriptor,
} from "../gen/moby/buildkit/v1/control_pb.js";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import { codeOf, messageOf, type ErrorCode } from "../util/errors.js";

/** Upstream's media type for a record's full error status (its spelling, typo included). */
export const ERROR_STATUS_MEDIA_TYPE = "application/vnd.googeapis.google.rpc.status+proto";

// google.rpc.Code numbers; Internal maps to Unknown as at the daemon's edge (daemon/grpc-status.ts).
const RPC_CODES: Record<ErrorCode, number> = {
  Canceled: 1, Internal: 2, InvalidArgument: 3, NotFound: 5, AlreadyExists: 6, ResourceExhausted: 8,
  FailedPrecondition: 9, Unimplemented: 12, Unavailable: 14,
};

/** A build error as the status a client of the Control API would have received. */
export function errorStatusOf(err: unknown): Status {
  return create(StatusSchema, { code: RPC_CODES[codeOf(err)], message: messageOf(err) });
}

/** The status as bytes, for the record's external error blob. */
export function errorStatusBytes(status: Status): Uint8Array {
  return toBinary(StatusSchema, status);
}

/** A history Descriptor from its parts. */
export function historyDescriptor(d: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }): Descriptor {
  return create(DescriptorSchema, { mediaType: d.mediaType, digest: d.digest, size: BigInt(d.size), annotations: d.annotations ?? {} });
}

/**
 * The result descriptor an image exporter reported (`containerimage.descriptor`, base64 JSON of an OCI
 * descriptor), as upstream's first result descriptor (also in the deprecated field for old clients).
 * Undefined when no exporter reported one or it does not parse.
 */
export function resultInfoOf(response: Record<string, string>): BuildResultInfo | undefined {
  const encoded = response["containerimage.descriptor"];
  if (!encoded) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  } catch {
    return undefined; // Not ours to judge: the build succeeded, its record just has no result.
  }
  if (!json || typeof json !== "object") return undefined;
  const o = json as Record<string, unknown>;
  if (typeof o.digest !== "string" || typeof o.mediaType !== "string" || typeof o.size !== "number") return undefined;
  const annotations = o.annotations && typeof o.annotations === "object"
    ? Object.fromEntries(Object.entries(o.annotations as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string"))
    : undefined;
  const desc = historyDescriptor({ mediaType: o.mediaType, digest: o.digest, size: o.size, annotations });
  return create(BuildResultInfoSchema, { ResultDeprecated: desc, Results: { "0": desc } });
}
