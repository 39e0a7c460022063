// The options of `State.run()` and their translation into an exec vertex spec, applying the state's
// env, dir, user, hostname, network and security like upstream's State values.
import { posix } from "node:path";
import type { Platform } from "../oci/types.js";
import { GantryError } from "../util/errors.js";
import type { ExecMountSpec, ExecSecretSpec, ExecSpec, ExecSshSpec } from "./exec-op.js";
import { goClean } from "./file-actions.js";
import { splitShellWords } from "./shlex.js";
import type { OpOptions, Output } from "./vertex.js";

export type NetworkMode = "sandbox" | "host" | "none";
export type SecurityMode = "sandbox" | "insecure";

/** A mount of `run()`. `source` is any state with an output (a bind or cache mount reads it). */
export interface MountOptions<S extends RunBase = RunBase> {
  /** Where to mount; optional only for secrets exposed as env and for SSH sockets (numbered default). */
  target?: string;
  /** Default "bind". */
  type?: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  source?: S;
  /** Mount a sub-path of the source. */
  selector?: string;
  readonly?: boolean;
  /** Cache mounts: the cache's name (default: the target). */
  cacheId?: string;
  sharing?: "shared" | "private" | "locked";
  /** Tmpfs size limit in bytes. */
  size?: number;
  /** Secret or SSH id (a secret's id defaults to its target). */
  id?: string;
  /** Secrets: also (or only, without `target`) expose the value as this env variable. */
  env?: string;
  uid?: number;
  gid?: number;
  mode?: number;
  optional?: boolean;
  /** A writable bind mount whose changes are thrown away. */
  noOutput?: boolean;
  contentCache?: "default" | "on" | "off";
}

/** Options of `State.run()`; give exactly one of `args`, `shell` or `shlex`. */
export interface RunOptions<S extends RunBase = RunBase> extends OpOptions {
  args?: string[];
  /** Runs the string with `/bin/sh -c`. */
  shell?: string;
  /** Splits the string into words like a shell would, without running a shell. */
  shlex?: string;
  /** Added to (or replacing keys of) the state's env for this run only. */
  env?: Record<string, string>;
  /** Relative paths resolve against the state's dir. */
  cwd?: string;
  user?: string;
  hostname?: string;
  network?: NetworkMode;
  security?: SecurityMode;
  mounts?: MountOptions<S>[];
  readonlyRootfs?: boolean;
  extraHosts?: { host: string; ip: string }[];
  ulimits?: { name: string; soft: number; hard: number }[];
  cgroupParent?: string;
  proxyEnv?: ExecSpec["proxyEnv"];
  validExitCodes?: number[];
  cdiDevices?: { name: string; optional?: boolean }[];
}

/** What `run()` reads from a state (State implements it). */
export interface RunBase {
  output(): Output | undefined;
  getDir(): string;
  envList(): readonly (readonly [string, string])[];
  getUser(): string;
  getPlatform(): Platform | undefined;
  getHostname(): string | undefined;
  getNetwork(): NetworkMode;
  getSecurity(): SecurityMode;
}

/** Resolves run options against the base state; throws InvalidArgument for an unusable command or mount. */
export function resolveRun<S extends RunBase>(base: S, opts: RunOptions<S>): ExecSpec {
  const spec: ExecSpec = {
    args: runArgs(opts),
    env: runEnv(base.envList(), opts.env),
    cwd: opts.cwd === undefined ? base.getDir() : joinDir(base.getDir(), opts.cwd),
    user: opts.user ?? base.getUser(),
    network: opts.network ?? base.getNetwork(),
    security: opts.security ?? base.getSecurity(),
    readonlyRoot: opts.readonlyRootfs ?? false,
    mounts: [],
    secrets: [],
    ssh: [],
    opts,
  };
  const root = base.output();
  if (root) spec.root = root;
  const hostname = opts.hostname ?? base.getHostname();
  if (hostname !== undefined) spec.hostname = hostname;
  const platform = base.getPlatform();
  if (platform) spec.platform = platform;
  copyDefined(spec, opts);
  for (const m of opts.mounts ?? []) addMount(spec, m);
  return spec;
}

function copyDefined(spec: ExecSpec, opts: RunOptions<RunBase>): void {
  if (opts.extraHosts) spec.extraHosts = opts.extraHosts;
  if (opts.ulimits) spec.ulimits = opts.ulimits;
  if (opts.cgroupParent !== undefined) spec.cgroupParent = opts.cgroupParent;
  if (opts.proxyEnv) spec.proxyEnv = opts.proxyEnv;
  if (opts.validExitCodes) spec.validExitCodes = opts.validExitCodes;
  if (opts.cdiDevices) spec.cdiDevices = opts.cdiDevices;
}

function runArgs(opts: RunOptions<RunBase>): string[] {
  const given = [opts.args, opts.shell, opts.shlex].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw new GantryError("InvalidArgument", "run() needs exactly one of args, shell or shlex to know what to execute.");
  }
  const args = opts.args ?? (opts.shell !== undefined ? ["/bin/sh", "-c", opts.shell] : splitShellWords(opts.shlex ?? ""));
  if (args.length === 0) throw new GantryError("InvalidArgument", "run() was given an empty command.");
  return [...args];
}

// A replaced key moves to the end, matching the order upstream's EnvList produces.
function runEnv(base: readonly (readonly [string, string])[], extra: Record<string, string> | undefined) {
  let env = [...base];
  for (const [k, v] of Object.entries(extra ?? {})) env = [...env.filter(([key]) => key !== k), [k, v] as const];
  return env;
}

/** Resolves `p` against `dir` like upstream's Dir(): absolute paths are kept as given. */
export function joinDir(dir: string, p: string): string {
  return posix.isAbsolute(p) ? p : goClean(posix.join(dir || "/", p));
}

function addMount(spec: ExecSpec, m: MountOptions<RunBase>): void {
  const type = m.type ?? "bind";
  if (type === "secret") {
    const id = m.id ?? m.target;
    if (id === undefined || (!m.target && m.env === undefined)) {
      throw new GantryError("InvalidArgument", "A secret mount needs an id and a target path or an env variable name.");
    }
    const s: ExecSecretSpec = { id, ...pick(m) };
    if (m.target) s.target = m.target;
    if (m.env !== undefined) s.env = m.env;
    spec.secrets.push(s);
    return;
  }
  if (type === "ssh") {
    const s: ExecSshSpec = { ...pick(m) };
    if (m.id !== undefined) s.id = m.id;
    if (m.target) s.target = m.target;
    spec.ssh.push(s);
    return;
  }
  if (!m.target) throw new GantryError("InvalidArgument", `A ${type} mount needs a target path.`);
  if (type === "tmpfs" && m.source) {
    throw new GantryError("InvalidArgument", `The tmpfs mount at ${m.target} cannot have a source.`);
  }
  const out: ExecMountSpec = { target: m.target, type };
  const source = m.source?.output();
  if (source) out.source = source;
  if (m.selector) out.selector = m.selector;
  if (m.readonly) out.readonly = true;
  if (m.cacheId !== undefined) out.cacheId = m.cacheId;
  if (m.sharing) out.sharing = m.sharing;
  if (m.size !== undefined) out.tmpfsSize = m.size;
  if (m.noOutput) out.noOutput = true;
  if (m.contentCache) out.contentCache = m.contentCache;
  spec.mounts.push(out);
}

function pick(m: MountOptions<RunBase>): { uid?: number; gid?: number; mode?: number; optional?: boolean } {
  const out: { uid?: number; gid?: number; mode?: number; optional?: boolean } = {};
  if (m.uid !== undefined) out.uid = m.uid;
  if (m.gid !== undefined) out.gid = m.gid;
  if (m.mode !== undefined) out.mode = m.mode;
  if (m.optional !== undefined) out.optional = m.optional;
  return out;
}
