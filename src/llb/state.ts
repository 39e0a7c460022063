// The typed LLB builder: immutable States (each call returns a new one) that marshal lazily into a
// Definition byte-compatible with upstream's Go client (client/llb).
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { DefinitionSchema, OpMetadataSchema, OpSchema, type OpMetadata, type Source } from "../gen/pb/ops_pb.js";
import { hostPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import { sha256, type Digest } from "../util/digest.js";
import { GantryError, messageOf } from "../util/errors.js";
import { DiffVertex } from "./diff-op.js";
import { ExecVertex } from "./exec-op.js";
import { FileVertex, type FileAction, type FileBase } from "./file-actions.js";
import { gitSource, type GitOptions } from "./git-source.js";
import { Caps } from "./keys.js";
import { marshalDefinitionMessage, marshalOp } from "./marshal.js";
import { MergeVertex } from "./merge-op.js";
import { SourceMapCollector } from "./source-map.js";
import {
  joinDir, resolveRun, type NetworkMode, type RunBase, type RunOptions, type SecurityMode,
} from "./run-options.js";
import {
  httpSource, imageSource, localSource, type HttpOptions, type ImageOptions, type LocalOptions,
} from "./source-op.js";
import { MarshalContext, mergeMetadata, type MarshalOptions, type OpOptions, type Output, type Vertex } from "./vertex.js";

// The package's public `gantry/llb` entry re-exports the builder's vocabulary from here.
export type {
  CopyOptions, CreatedTime, FileAction, MkdirOptions, MkfileOptions, Owner, RmOptions, SymlinkOptions,
} from "./file-actions.js";
export { copy, mkdir, mkfile, rm, symlink } from "./file-actions.js";
export type { GitOptions } from "./git-source.js";
export type { MountOptions, NetworkMode, RunOptions, SecurityMode } from "./run-options.js";
export type { HttpOptions, ImageOptions, LocalOptions } from "./source-op.js";
export type { MarshalOptions, OpOptions, SourceLocation, SourceMap } from "./vertex.js";

interface StateValues {
  readonly env: readonly (readonly [string, string])[];
  readonly dir: string;
  readonly user: string;
  readonly platform?: Platform;
  readonly hostname?: string;
  readonly network: NetworkMode;
  readonly security: SecurityMode;
  readonly imageConfig?: Uint8Array;
}

const DEFAULT_VALUES: StateValues = { env: [], dir: "/", user: "", network: "sandbox", security: "sandbox" };

/** A marshalled graph: op bytes (inputs first, terminal last), metadata by digest and the source map. */
export interface MarshalledDefinition {
  def: Uint8Array[];
  metadata: Map<Digest, OpMetadata>;
  /** Like upstream, present with an (often empty) entry per vertex whenever the graph is not empty. */
  source?: Source;
}

/** A filesystem state plus the values (env, dir, user, platform…) later runs use. Immutable. */
export class State implements FileBase, RunBase {
  readonly #out: Output | undefined;
  readonly #values: StateValues;

  /** Prefer `scratch()`, `image()`, `local()`… ; this wraps a vertex output directly. */
  constructor(out?: Output, values: StateValues = DEFAULT_VALUES) {
    this.#out = out;
    this.#values = values;
  }

  /** The output this state stands for; undefined for scratch. */
  output(): Output | undefined {
    return this.#out;
  }

  isScratch(): boolean {
    return this.#out === undefined;
  }

  /** Sets an env variable for later runs; a replaced key moves last, as upstream orders them. */
  env(key: string, value: string): State {
    return this.#with({ env: [...this.#values.env.filter(([k]) => k !== key), [key, value] as const] });
  }

  /** Drops an env variable. */
  withoutEnv(key: string): State {
    return this.#with({ env: this.#values.env.filter(([k]) => k !== key) });
  }

  getEnv(key: string): string | undefined {
    return this.#values.env.find(([k]) => k === key)?.[1];
  }

  /** The env in the order runs receive it. */
  envList(): readonly (readonly [string, string])[] {
    return this.#values.env;
  }

  /** Sets the working dir; a relative path resolves against the current one. */
  dir(path: string): State {
    return this.#with({ dir: joinDir(this.#values.dir, path) });
  }

  getDir(): string {
    return this.#values.dir;
  }

  user(user: string): State {
    return this.#with({ user });
  }

  getUser(): string {
    return this.#values.user;
  }

  /** Sets the platform execs on this state run for. */
  platform(platform: Platform): State {
    return this.#with({ platform });
  }

  getPlatform(): Platform | undefined {
    return this.#values.platform;
  }

  hostname(hostname: string): State {
    return this.#with({ hostname });
  }

  getHostname(): string | undefined {
    return this.#values.hostname;
  }

  network(network: NetworkMode): State {
    return this.#with({ network });
  }

  getNetwork(): NetworkMode {
    return this.#values.network;
  }

  security(security: SecurityMode): State {
    return this.#with({ security });
  }

  getSecurity(): SecurityMode {
    return this.#values.security;
  }

  /**
   * Applies an image config like upstream's WithImageConfig (Env, WorkingDir, platform) and keeps the
   * raw config as a value (`imageConfig()`). Throws InvalidArgument when it is not JSON.
   */
  withImageConfig(config: string | Uint8Array | object): State {
    const raw = typeof config === "string" ? new TextEncoder().encode(config)
      : config instanceof Uint8Array ? config : new TextEncoder().encode(JSON.stringify(config));
    const img = parseImageConfig(raw);
    let s = this.#with({ imageConfig: raw });
    for (const entry of img.config?.Env ?? []) {
      const eq = entry.indexOf("=");
      const key = eq < 0 ? entry : entry.slice(0, eq);
      if (key !== "") s = s.env(key, eq < 0 ? "" : entry.slice(eq + 1));
    }
    s = s.dir(img.config?.WorkingDir ?? "");
    if (img.architecture && img.os) {
      s = s.platform({
        architecture: img.architecture, os: img.os,
        ...(img.variant ? { variant: img.variant } : {}),
        ...(img["os.version"] ? { "os.version": img["os.version"] } : {}),
        ...(img["os.features"] ? { "os.features": [...img["os.features"]] } : {}),
      });
    }
    return s;
  }

  /** The raw image config set by `withImageConfig`, if any. */
  imageConfig(): Uint8Array | undefined {
    return this.#values.imageConfig;
  }

  /** Runs a command on this state; throws InvalidArgument for a missing command or bad mount. */
  run(opts: RunOptions<State>): ExecState {
    const vertex = new ExecVertex(resolveRun(this, opts));
    const root = vertex.outputOf("/");
    const values = opts.platform ? { ...this.#values, platform: opts.platform } : this.#values;
    return new ExecState(new State(root, values), vertex);
  }

  /** Applies a chain of file actions to this state as one FileOp. */
  file(action: FileAction, opts: OpOptions = {}): State {
    return this.withOutput({ vertex: new FileVertex(this, action, opts), index: 0 });
  }

  /** The same values over another output. */
  withOutput(out: Output | undefined): State {
    return new State(out, this.#values);
  }

  /** Marshals the graph ending at this state; empty for scratch. Throws InvalidArgument for invalid ops. */
  marshal(opts: MarshalOptions = {}): MarshalledDefinition {
    return marshalState(this, opts);
  }

  #with(change: Partial<StateValues>): State {
    return new State(this.#out, { ...this.#values, ...change });
  }
}

/** The result of `run()`: its root and the outputs of its writable mounts. */
export class ExecState {
  readonly #root: State;
  readonly #vertex: ExecVertex;

  constructor(root: State, vertex: ExecVertex) {
    this.#root = root;
    this.#vertex = vertex;
  }

  /** The root filesystem after the run, with the base state's values. */
  root(): State {
    return this.#root;
  }

  /** The mount at `target` after the run (its source for readonly mounts); throws NotFound if absent. */
  getMount(target: string): State {
    if (!this.#vertex.hasMount(target)) throw new GantryError("NotFound", `The run has no mount at ${target}.`);
    return new State(this.#vertex.outputOf(target));
  }
}

/** The empty filesystem. */
export function scratch(): State {
  return new State();
}

/** An image from a registry; the ref is normalised (`busybox` → `docker.io/library/busybox:latest`). */
export function image(ref: string, opts: ImageOptions = {}): State {
  const s = new State({ vertex: imageSource(ref, opts), index: 0 });
  return opts.platform ? s.platform(opts.platform) : s;
}

/** A directory the client sends under `name`. */
export function local(name: string, opts: LocalOptions = {}): State {
  return new State({ vertex: localSource(name, opts), index: 0 });
}

/** A git repository at `ref`. */
export function git(remote: string, ref = "", opts: GitOptions = {}): State {
  return new State({ vertex: gitSource(remote, ref, opts), index: 0 });
}

/** A file downloaded from a URL. */
export function http(url: string, opts: HttpOptions = {}): State {
  return new State({ vertex: httpSource(url, opts), index: 0 });
}

/** Stacks states (later wins); scratch inputs are skipped, and one input is returned as is. */
export function merge(states: readonly State[], opts: OpOptions = {}): State {
  const real = states.filter((s) => !s.isScratch());
  if (real.length === 0) return scratch();
  if (real.length === 1) return real[0];
  return real[0].withOutput({ vertex: new MergeVertex(real.map((s) => s.output() as Output), opts), index: 0 });
}

/** The changes from `lower` to `upper`; keeps `lower`'s values. */
export function diff(lower: State, upper: State, opts: OpOptions = {}): State {
  const lo = lower.output();
  if (lo === undefined) return upper;
  return lower.withOutput({ vertex: new DiffVertex(lo, upper.output(), opts), index: 0 });
}

/** Marshals a state into Definition bytes (what a Solve request carries). */
export function marshalDefinition(state: State, opts: MarshalOptions = {}): Uint8Array {
  const { def, metadata, source } = state.marshal(opts);
  const msg = create(DefinitionSchema, { def, metadata: Object.fromEntries(metadata) });
  if (source) msg.Source = source;
  return marshalDefinitionMessage(msg);
}

function marshalState(state: State, opts: MarshalOptions): MarshalledDefinition {
  const out = state.output();
  const result: MarshalledDefinition = { def: [], metadata: new Map() };
  if (out === undefined) return result;
  const ctx = new MarshalContext({ ...opts, platform: opts.platform ?? hostPlatform(), localUniqueId: opts.localUniqueId ?? newId() });
  const visited = new Set<Vertex>();
  const sources = new SourceMapCollector();
  const visit = (v: Vertex): void => {
    if (visited.has(v)) return;
    for (const input of v.inputs()) visit(input.vertex);
    const m = ctx.marshal(v);
    visited.add(v);
    sources.add(m.digest, m.locations);
    const prev = result.metadata.get(m.digest);
    if (prev === undefined) result.def.push(m.bytes);
    result.metadata.set(m.digest, prev ? mergeMetadata(prev, m.metadata) : m.metadata);
  };
  visit(out.vertex);
  const terminal = marshalOp(create(OpSchema, { inputs: [ctx.input(out)] }));
  result.def.push(terminal);
  result.metadata.set(sha256(terminal), terminalMetadata(result.metadata));
  result.source = sources.toSource();
  return result;
}

function terminalMetadata(all: Map<Digest, OpMetadata>): OpMetadata {
  const md = create(OpMetadataSchema);
  md.caps[Caps.constraints] = true;
  md.caps[Caps.platform] = true;
  for (const m of all.values()) {
    if (m.ignoreCache) md.caps[Caps.metaIgnoreCache] = true;
    if (Object.keys(m.description).length > 0) md.caps[Caps.metaDescription] = true;
    if (m.exportCache) md.caps[Caps.metaExportCache] = true;
  }
  return md;
}

// Upstream's identity.NewID(): 128 random bits in base 36, 25 characters.
function newId(): string {
  return BigInt(`0x${randomBytes(16).toString("hex")}`).toString(36).padStart(25, "0");
}

interface ImageConfigJson {
  architecture?: string;
  os?: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
  config?: { Env?: string[]; WorkingDir?: string };
}

function parseImageConfig(raw: Uint8Array): ImageConfigJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(raw));
  } catch (err) {
    throw new GantryError("InvalidArgument", `The image config is not valid JSON: ${messageOf(err)}.`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new GantryError("InvalidArgument", "The image config must be a JSON object.");
  }
  return parsed as ImageConfigJson;
}
