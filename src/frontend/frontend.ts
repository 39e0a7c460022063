// The frontend contract. A frontend turns its input (a Dockerfile, a gateway image's program) into LLB by
// talking to the engine only through the bridge, which mirrors upstream's LLBBridge service: the same
// frontend code serves in-process builds, client-driven builds and gateway images.
import type { Platform } from "../oci/types.js";
import type { SourceRange } from "../util/errors.js";

/** An opaque handle to a solved result that the frontend may read files from. */
export interface BridgeRef {
  readonly id: string;
}

export interface FileStat {
  path: string;
  /** Go os.FileMode bits, as fsutil's Stat carries them. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  modTime: number;
  linkname?: string;
}

export interface ResolvedImageConfig {
  /** The reference as resolved, with the manifest digest (`name@sha256:…`). */
  ref: string;
  digest: string;
  /** The image config JSON as stored in the registry. */
  config: Uint8Array;
}

export interface FrontendBridge {
  /** Solves a marshalled pb.Definition and returns a handle to read its result (evaluated eagerly). */
  solve(definition: Uint8Array, opts?: { signal?: AbortSignal }): Promise<BridgeRef>;
  /** NotFound when the file does not exist in the result. */
  readFile(ref: BridgeRef, path: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  readDir(ref: BridgeRef, path: string, includePattern?: string): Promise<FileStat[]>;
  statFile(ref: BridgeRef, path: string): Promise<FileStat>;
  resolveImageConfig(ref: string, opts: { platform?: Platform; signal?: AbortSignal }): Promise<ResolvedImageConfig>;
  /** Named inputs given by the client (`--opt context:NAME=input:…`), as marshalled Definitions. */
  inputs(): Promise<Record<string, Uint8Array>>;
  /**
   * Reports a build check warning or deprecation shown after the build. `ranges` are the lines (and
   * characters) of `location.filename` at fault, as upstream's WarnRequest.range.
   */
  warn(w: {
    short: string; detail?: string[]; url?: string; level?: number; location?: { filename: string; line: number };
    ranges?: SourceRange[];
  }): void;
}

export interface FrontendResult {
  /** The marshalled pb.Definition of the result (single platform); empty for a subrequest's answer. */
  definition: Uint8Array;
  /**
   * Result metadata, upstream's keys: `containerimage.config` (image config JSON), `containerimage.buildinfo`…
   * Multi-platform results use `refs` instead. A subrequest's answer (`requestid` attr) is metadata only:
   * `result.json`, `result.txt`, `version` and for lint `result.statuscode`; nothing is built or exported.
   */
  metadata: Record<string, Uint8Array>;
  /** Per-platform results (key = platform string such as linux/amd64) for multi-platform builds. */
  refs?: Record<string, { definition: Uint8Array; metadata: Record<string, Uint8Array> }>;
}

export interface Frontend {
  /** `attrs` are the frontend options (`--opt`): `filename`, `target`, `build-arg:K`, `platform`, … */
  solve(bridge: FrontendBridge, attrs: Record<string, string>, opts: { signal?: AbortSignal }): Promise<FrontendResult>;
}
