// The builder's internal graph: immutable vertices that turn into marshalled pb.Op bytes on demand, and
// the per-marshal context (default platform, daemon caps) they marshal under.
import { create } from "@bufbuild/protobuf";
import {
  ExportCacheSchema, InputSchema, OpMetadataSchema, OpSchema, PlatformSchema, ProgressGroupSchema, WorkerConstraintsSchema,
  type Definition, type Input, type Op, type OpMetadata, type Platform as PbPlatform,
} from "../gen/pb/ops_pb.js";
import { hostPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import { sha256, type Digest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import { CustomNameKey } from "./keys.js";
import { marshalOp } from "./marshal.js";

/** Options every op accepts: its display name, metadata and constraints (upstream ConstraintsOpt). */
export interface OpOptions {
  /** Display name (`llb.customname`). */
  customName?: string;
  /** Extra description entries. */
  description?: Record<string, string>;
  ignoreCache?: boolean;
  exportCache?: boolean;
  progressGroup?: { id: string; name: string; weak?: boolean };
  /** Overrides the platform of platform-specific ops (image sources, execs). */
  platform?: Platform;
  /** containerd-style worker filters. */
  workerConstraints?: string[];
  /** Where in a source file (a Dockerfile) this op comes from; feeds Definition.Source. */
  sourceLocations?: SourceLocation[];
}

/** A source file ops can point into. Maps are told apart by identity, then by content. */
export interface SourceMap {
  filename: string;
  language?: string;
  data: Uint8Array;
  /** The definition that produced the file (e.g. the Dockerfile's local source), when known. */
  definition?: Definition;
}

/** Ranges of one source map; lines and characters as upstream (1-based lines). */
export interface SourceLocation {
  sourceMap: SourceMap;
  ranges: { start: { line: number; character: number }; end: { line: number; character: number } }[];
}

/** Settings of one marshal run. */
export interface MarshalOptions {
  /** Default platform of ops that do not set one; the host's by default. */
  platform?: Platform;
  /**
   * Capabilities of the daemon, when known (a frontend knows them). With it an exec gets the default PATH
   * only from a daemon lacking `exec.meta.setsdefaultpath`; without it nothing is added, as upstream.
   */
  caps?: ReadonlySet<string>;
  /** Value of `local.unique` for local sources without a session; random per marshal by default. */
  localUniqueId?: string;
  /** Upstream before v0.12 wrote the platform on file ops too; set to reproduce such digests. */
  fileOpPlatform?: boolean;
  /** Options applied to every op (e.g. `{ ignoreCache: true }`). */
  defaults?: OpOptions;
}

/** One output of a vertex. `error` marks an output that cannot be used as an input (tmpfs mounts). */
export interface Output {
  readonly vertex: Vertex;
  readonly index: number;
  readonly error?: string;
}

/** A marshalled vertex. */
export interface MarshalledVertex {
  digest: Digest;
  bytes: Uint8Array;
  metadata: OpMetadata;
  locations: readonly SourceLocation[];
}

/** What a vertex builds: its op, its metadata and its source locations. */
export interface BuiltOp {
  op: Op;
  metadata: OpMetadata;
  locations: readonly SourceLocation[];
}

/** A node of the builder graph. Implementations are immutable. */
export interface Vertex {
  /** Outputs this vertex reads, marshalled before it. */
  inputs(): readonly Output[];
  /** Builds the op; called once per marshal run through `MarshalContext.marshal`. */
  build(ctx: MarshalContext): BuiltOp;
}

/** Memoises vertices for one marshal run and carries its settings. */
export class MarshalContext {
  readonly options: MarshalOptions;
  readonly #done = new Map<Vertex, MarshalledVertex>();

  constructor(options: MarshalOptions) {
    this.options = options;
  }

  /** Marshals a vertex once; throws InvalidArgument when its op is invalid. */
  marshal(vertex: Vertex): MarshalledVertex {
    const done = this.#done.get(vertex);
    if (done) return done;
    const { op, metadata, locations } = vertex.build(this);
    const bytes = marshalOp(op);
    const result = { digest: sha256(bytes), bytes, metadata, locations };
    this.#done.set(vertex, result);
    return result;
  }

  /** The pb.Input naming an output; throws InvalidArgument for outputs that cannot be inputs. */
  input(output: Output): Input {
    if (output.error !== undefined) throw new GantryError("InvalidArgument", output.error);
    return create(InputSchema, { digest: this.marshal(output.vertex).digest, index: BigInt(output.index) });
  }
}

/** Op skeleton (platform, constraints) plus metadata, as upstream's MarshalConstraints builds them. */
export function baseOp(ctx: MarshalContext, opts: OpOptions, caps: Iterable<string>,
  platform?: Platform | null): BuiltOp {
  const defaults = ctx.options.defaults ?? {};
  const op = create(OpSchema, {
    constraints: create(WorkerConstraintsSchema, {
      filter: [...(defaults.workerConstraints ?? []), ...(opts.workerConstraints ?? [])],
    }),
  });
  // `null` marks ops that are not platform specific (local/git/http sources, merge, diff, file).
  if (platform !== null) op.platform = toPbPlatform(platform ?? opts.platform ?? defaults.platform ?? ctx.options.platform);
  const metadata = mergeMetadata(toMetadata(defaults), toMetadata(opts));
  for (const cap of caps) metadata.caps[cap] = true;
  return { op, metadata, locations: [...(defaults.sourceLocations ?? []), ...(opts.sourceLocations ?? [])] };
}

/** Converts an OCI platform to the pb form; the host platform when undefined. */
export function toPbPlatform(p: Platform = hostPlatform()): PbPlatform {
  return create(PlatformSchema, {
    Architecture: p.architecture,
    OS: p.os,
    Variant: p.variant ?? "",
    OSVersion: p["os.version"] ?? "",
    OSFeatures: [...(p["os.features"] ?? [])],
  });
}

function toMetadata(opts: OpOptions): OpMetadata {
  const md = create(OpMetadataSchema, { ignoreCache: opts.ignoreCache ?? false });
  if (opts.description) Object.assign(md.description, opts.description);
  if (opts.customName !== undefined) md.description[CustomNameKey] = opts.customName;
  if (opts.exportCache !== undefined) md.exportCache = create(ExportCacheSchema, { Value: opts.exportCache });
  if (opts.progressGroup) {
    md.progressGroup = create(ProgressGroupSchema, { ...opts.progressGroup, weak: opts.progressGroup.weak ?? false });
  }
  return md;
}

/** Later entries win, caps are unioned (upstream mergeMetadata). */
export function mergeMetadata(a: OpMetadata, b: OpMetadata): OpMetadata {
  const out = create(OpMetadataSchema, {
    ignoreCache: a.ignoreCache || b.ignoreCache,
    description: { ...a.description, ...b.description },
    caps: { ...a.caps, ...b.caps },
  });
  const exportCache = b.exportCache ?? a.exportCache;
  if (exportCache) out.exportCache = exportCache;
  const group = b.progressGroup ?? a.progressGroup;
  if (group) out.progressGroup = group;
  const resources = b.linuxResources ?? a.linuxResources;
  if (resources) out.linuxResources = resources;
  return out;
}
