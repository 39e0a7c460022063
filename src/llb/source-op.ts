// Source vertices (images, local dirs, git repositories, URLs): an identifier plus attrs, and the
// caps upstream's client records for each option.
import { create } from "@bufbuild/protobuf";
import { SourceOpSchema } from "../gen/pb/ops_pb.js";
import { normalizeImageRef } from "./image-ref.js";
import { Attrs, Caps } from "./keys.js";
import { baseOp, type BuiltOp, type MarshalContext, type OpOptions, type Output, type Vertex } from "./vertex.js";

/** A leaf vertex. Only image sources are platform specific. */
export class SourceVertex implements Vertex {
  readonly identifier: string;
  readonly #attrs: Readonly<Record<string, string>>;
  readonly #caps: readonly string[];
  readonly #opts: OpOptions;

  constructor(identifier: string, attrs: Record<string, string>, caps: string[], opts: OpOptions) {
    this.identifier = identifier;
    this.#attrs = { ...attrs };
    this.#caps = [...caps];
    this.#opts = opts;
  }

  inputs(): readonly Output[] {
    return [];
  }

  build(ctx: MarshalContext): BuiltOp {
    const attrs = { ...this.#attrs };
    const caps = [...this.#caps];
    // Without a session id the daemon needs a per-client id to keep separate local caches apart.
    if (this.identifier.startsWith("local://") && attrs[Attrs.localSessionID] === undefined) {
      attrs[Attrs.localUniqueID] = ctx.options.localUniqueId ?? "";
      caps.push(Caps.sourceLocalUnique);
    }
    const specific = this.identifier.startsWith("docker-image://") || this.identifier.startsWith("oci-layout://");
    const built = baseOp(ctx, this.#opts, caps, specific ? undefined : null);
    const { op } = built;
    op.op = { case: "source", value: create(SourceOpSchema, { identifier: this.identifier, attrs }) };
    return built;
  }
}

/** Options of `image()`. */
export interface ImageOptions extends OpOptions {
  resolveMode?: "default" | "pull" | "local";
  /** `internal` hides the pull from build history (upstream MarkImageInternal). */
  recordType?: string;
  layerLimit?: number;
  checksum?: string;
}

/** An image source; `ref` is normalised (`busybox` → `docker.io/library/busybox:latest`). */
export function imageSource(ref: string, opts: ImageOptions = {}): SourceVertex {
  const attrs: Record<string, string> = {};
  const caps: string[] = [Caps.sourceImage];
  if (opts.resolveMode !== undefined && opts.resolveMode !== "default") {
    attrs[Attrs.imageResolveMode] = opts.resolveMode;
    if (opts.resolveMode === "pull") caps.push(Caps.sourceImageResolveMode);
  }
  if (opts.recordType) attrs[Attrs.imageRecordType] = opts.recordType;
  if (opts.layerLimit !== undefined) {
    attrs[Attrs.imageLayerLimit] = String(opts.layerLimit);
    caps.push(Caps.sourceImageLayerLimit);
  }
  if (opts.checksum) {
    attrs[Attrs.imageChecksum] = opts.checksum;
    caps.push(Caps.sourceImageChecksum);
  }
  return new SourceVertex(`docker-image://${normalizeImageRef(ref)}`, attrs, caps, opts);
}

/** Options of `local()`. */
export interface LocalOptions extends OpOptions {
  include?: string[];
  exclude?: string[];
  followPaths?: string[];
  sharedKeyHint?: string;
  sessionId?: string;
  differ?: { type: "none" | "metadata"; required?: boolean };
}

/** A directory sent by the client's session under `name`. */
export function localSource(name: string, opts: LocalOptions = {}): SourceVertex {
  const attrs: Record<string, string> = {};
  const caps: string[] = [];
  const set = (key: string, value: string | undefined, cap?: string): void => {
    if (!value) return;
    attrs[key] = value;
    if (cap) caps.push(cap);
  };
  const json = (list: string[] | undefined): string | undefined => (list?.length ? JSON.stringify(list) : undefined);
  set(Attrs.localSessionID, opts.sessionId, Caps.sourceLocalSessionID);
  set(Attrs.localIncludePatterns, json(opts.include), Caps.sourceLocalIncludePatterns);
  set(Attrs.localFollowPaths, json(opts.followPaths), Caps.sourceLocalFollowPaths);
  set(Attrs.localExcludePatterns, json(opts.exclude), Caps.sourceLocalExcludePatterns);
  set(Attrs.localSharedKeyHint, opts.sharedKeyHint, Caps.sourceLocalSharedKeyHint);
  if (opts.differ) set(Attrs.localDiffer, opts.differ.type, opts.differ.required ? Caps.sourceLocalDiffer : undefined);
  caps.push(Caps.sourceLocal);
  return new SourceVertex(`local://${name}`, attrs, caps, opts);
}

/** Options of `http()`. */
export interface HttpOptions extends OpOptions {
  /** Expected `sha256:…` of the content. */
  checksum?: string;
  filename?: string;
  /** Permission bits of the downloaded file. */
  chmod?: number;
  uid?: number;
  gid?: number;
}

/** A file downloaded from an http(s) URL. */
export function httpSource(url: string, opts: HttpOptions = {}): SourceVertex {
  const attrs: Record<string, string> = {};
  const caps: string[] = [];
  if (opts.checksum) {
    attrs[Attrs.httpChecksum] = opts.checksum;
    caps.push(Caps.sourceHTTPChecksum);
  }
  if (opts.filename) attrs[Attrs.httpFilename] = opts.filename;
  if (opts.chmod) {
    attrs[Attrs.httpPerm] = `0${(opts.chmod & 0o777).toString(8)}`;
    caps.push(Caps.sourceHTTPPerm);
  }
  if (opts.uid) {
    attrs[Attrs.httpUID] = String(opts.uid);
    caps.push(Caps.sourceHTTPUIDGID);
  }
  if (opts.gid) {
    attrs[Attrs.httpGID] = String(opts.gid);
    caps.push(Caps.sourceHTTPUIDGID);
  }
  caps.push(Caps.sourceHTTP);
  return new SourceVertex(url, attrs, caps, opts);
}

