// Exec vertices: a process run over a root filesystem plus mounts, marshalled with the defaults and
// caps upstream's Go client produces (mounts sorted by target, outputs numbered in that order, secret
// and ssh mounts appended last).
import { create } from "@bufbuild/protobuf";
import {
  CacheOptSchema, CacheSharingOpt, CDIDeviceSchema, ExecOpSchema, HostIPSchema, MetaSchema, MountContentCache,
  MountSchema, MountType, NetMode, ProxyEnvSchema, SecretEnvSchema, SecretOptSchema, SecurityMode, SSHOptSchema,
  TmpfsOptSchema, UlimitSchema, type Input, type Meta, type Mount, type SecretEnv,
} from "../gen/pb/ops_pb.js";
import type { Platform } from "../oci/types.js";
import { DefaultPathEnv, Caps } from "./keys.js";
import { baseOp, type BuiltOp, type MarshalContext, type OpOptions, type Output, type Vertex } from "./vertex.js";

/** A filesystem mount of a run, resolved to vertex outputs (see `MountOptions` for the user form). */
export interface ExecMountSpec {
  target: string;
  source?: Output;
  selector?: string;
  readonly?: boolean;
  type: "bind" | "cache" | "tmpfs";
  cacheId?: string;
  sharing?: "shared" | "private" | "locked";
  tmpfsSize?: number;
  noOutput?: boolean;
  contentCache?: "default" | "on" | "off";
}

/** A secret exposed as a file (`target`) and/or an environment variable (`env`). */
export interface ExecSecretSpec {
  id: string;
  target?: string;
  env?: string;
  uid?: number;
  gid?: number;
  mode?: number;
  optional?: boolean;
}

/** An SSH agent socket forwarded from the client. */
export interface ExecSshSpec {
  id?: string;
  target?: string;
  uid?: number;
  gid?: number;
  mode?: number;
  optional?: boolean;
}

/** Everything an exec vertex marshals, with state values already applied. */
export interface ExecSpec {
  args: string[];
  env: readonly (readonly [string, string])[];
  cwd: string;
  user: string;
  hostname?: string;
  cgroupParent?: string;
  network: "sandbox" | "host" | "none";
  security: "sandbox" | "insecure";
  extraHosts?: { host: string; ip: string }[];
  ulimits?: { name: string; soft: number; hard: number }[];
  validExitCodes?: number[];
  proxyEnv?: { httpProxy?: string; httpsProxy?: string; ftpProxy?: string; noProxy?: string; allProxy?: string };
  cdiDevices?: { name: string; optional?: boolean }[];
  root?: Output;
  readonlyRoot?: boolean;
  mounts: ExecMountSpec[];
  secrets: ExecSecretSpec[];
  ssh: ExecSshSpec[];
  /** The base state's platform; `opts.platform` wins over it. */
  platform?: Platform;
  opts: OpOptions;
}

interface SortedMount extends ExecMountSpec {
  output: number;
}

const SHARING = { shared: CacheSharingOpt.SHARED, private: CacheSharingOpt.PRIVATE, locked: CacheSharingOpt.LOCKED };
const CONTENT_CACHE = { default: MountContentCache.DEFAULT, on: MountContentCache.ON, off: MountContentCache.OFF };
const NET = { sandbox: NetMode.UNSET, host: NetMode.HOST, none: NetMode.NONE };

/** An exec op. `outputOf(target)` gives the output a mount produces. */
export class ExecVertex implements Vertex {
  readonly #spec: ExecSpec;
  readonly #mounts: SortedMount[];

  constructor(spec: ExecSpec) {
    this.#spec = spec;
    const all: ExecMountSpec[] = [
      { target: "/", type: "bind", readonly: spec.readonlyRoot ?? false, ...(spec.root ? { source: spec.root } : {}) },
      ...spec.mounts,
    ];
    all.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
    let next = 0;
    this.#mounts = all.map((m) => ({ ...m, output: producesOutput(m) ? next++ : -1 }));
  }

  /** Whether the run mounts something (other than a secret or SSH socket) at `target`. */
  hasMount(target: string): boolean {
    return this.#mounts.some((m) => m.target === target);
  }

  /** The output a mount target leaves behind; a readonly mount yields its unchanged source. */
  outputOf(target: string): Output | undefined {
    const m = this.#mounts.find((x) => x.target === target);
    if (m === undefined) return undefined;
    if (m.readonly && m.type === "bind") return m.source;
    if (m.output < 0) {
      return { vertex: this, index: 0, error: `The ${m.type} mount at ${target} has no output to build on.` };
    }
    return { vertex: this, index: m.output };
  }

  inputs(): readonly Output[] {
    const seen = new Set<Output>();
    for (const m of this.#mounts) if (m.source) seen.add(m.source);
    return [...seen];
  }

  build(ctx: MarshalContext): BuiltOp {
    const spec = this.#spec;
    const caps = new Set<string>([Caps.execMetaBase]);
    const env = new Map(spec.env);
    this.#sshDefaults(env);
    applyDefaultPath(ctx, env, caps);
    const exec = create(ExecOpSchema, {
      meta: this.#meta(env, caps),
      network: NET[spec.network],
      security: spec.security === "insecure" ? SecurityMode.INSECURE : SecurityMode.SANDBOX,
    });
    if (spec.network !== "sandbox") caps.add(Caps.execMetaNetwork);
    if (spec.security === "insecure") caps.add(Caps.execMetaSecurity);
    if (spec.cdiDevices?.length) {
      caps.add(Caps.execMetaCDI);
      exec.cdiDevices = spec.cdiDevices.map((d) => create(CDIDeviceSchema, { name: d.name, optional: d.optional ?? false }));
    }
    const inputs: Input[] = [];
    for (const m of this.#mounts) exec.mounts.push(this.#mount(ctx, m, inputs, caps));
    this.#appendSecretsAndSsh(exec.mounts, exec.secretenv, caps);
    const built = baseOp(ctx, spec.opts, caps, spec.opts.platform ?? spec.platform);
    const { op } = built;
    op.inputs = inputs;
    op.op = { case: "exec", value: exec };
    return built;
  }

  #meta(env: Map<string, string>, caps: Set<string>): Meta {
    const spec = this.#spec;
    const meta = create(MetaSchema, {
      args: spec.args,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: spec.cwd,
      user: spec.user,
      hostname: spec.hostname ?? "",
      cgroupParent: spec.cgroupParent ?? "",
      removeMountStubsRecursive: true,
    });
    if (spec.proxyEnv) {
      meta.proxyEnv = create(ProxyEnvSchema, spec.proxyEnv);
      caps.add(Caps.execMetaProxy);
    }
    if (spec.validExitCodes) {
      meta.validExitCodes = [...spec.validExitCodes];
      caps.add(Caps.execValidExitCode);
    }
    if (spec.extraHosts?.length) meta.extraHosts = spec.extraHosts.map((h) => create(HostIPSchema, { Host: h.host, IP: h.ip }));
    if (spec.ulimits?.length) {
      caps.add(Caps.execMetaUlimit);
      meta.ulimit = spec.ulimits.map((u) => create(UlimitSchema, { Name: u.name, Soft: BigInt(u.soft), Hard: BigInt(u.hard) }));
    }
    return meta;
  }

  // Like upstream, SSH mounts without a target get numbered sockets and the first one becomes
  // SSH_AUTH_SOCK unless the env already names one. Env keys keep their order; a new key goes last.
  #sshDefaults(env: Map<string, string>): void {
    const first = this.#spec.ssh[0];
    if (first !== undefined && !env.has("SSH_AUTH_SOCK")) env.set("SSH_AUTH_SOCK", sshTarget(first, 0));
  }

  #mount(ctx: MarshalContext, m: SortedMount, inputs: Input[], caps: Set<string>): Mount {
    let input = -1;
    if (m.source) {
      const inp = ctx.input(m.source);
      input = inputs.findIndex((x) => x.digest === inp.digest && x.index === inp.index);
      if (input < 0) input = inputs.push(inp) - 1;
    }
    const pm = create(MountSchema, {
      input: BigInt(input), dest: m.target, readonly: m.readonly ?? false, output: BigInt(m.output),
      selector: m.selector ?? "", contentCache: CONTENT_CACHE[m.contentCache ?? "default"],
    });
    if (m.selector) caps.add(Caps.execMountSelector);
    if (m.type === "cache") {
      pm.mountType = MountType.CACHE;
      pm.cacheOpt = create(CacheOptSchema, { ID: m.cacheId || m.target, sharing: SHARING[m.sharing ?? "shared"] });
      caps.add(Caps.execMountCache).add(Caps.execMountCacheSharing);
    } else if (m.type === "tmpfs") {
      pm.mountType = MountType.TMPFS;
      pm.TmpfsOpt = create(TmpfsOptSchema, { size: BigInt(m.tmpfsSize ?? 0) });
      caps.add(Caps.execMountTmpfs);
      if ((m.tmpfsSize ?? 0) > 0) caps.add(Caps.execMountTmpfsSize);
    } else if (m.source) {
      caps.add(Caps.execMountBind);
    }
    if ((m.contentCache ?? "default") !== "default") caps.add(Caps.execMountContentCache);
    return pm;
  }

  #appendSecretsAndSsh(mounts: Mount[], secretEnv: SecretEnv[], caps: Set<string>): void {
    const { secrets, ssh } = this.#spec;
    if (secrets.length > 0) caps.add(Caps.execMountSecret);
    for (const s of secrets) {
      if (s.env !== undefined) {
        caps.add(Caps.execSecretEnv);
        secretEnv.push(create(SecretEnvSchema, { ID: s.id, name: s.env, optional: s.optional ?? false }));
      }
      if (s.target !== undefined) {
        // Upstream leaves `output` at 0 on secret and ssh mounts; keep it for identical digests.
        mounts.push(create(MountSchema, {
          input: -1n, dest: s.target, mountType: MountType.SECRET,
          secretOpt: create(SecretOptSchema, {
            ID: s.id, uid: s.uid ?? 0, gid: s.gid ?? 0, mode: s.mode ?? 0o400, optional: s.optional ?? false,
          }),
        }));
      }
    }
    if (ssh.length > 0) caps.add(Caps.execMountSSH);
    ssh.forEach((s, i) => {
      mounts.push(create(MountSchema, {
        input: -1n, dest: sshTarget(s, i), mountType: MountType.SSH,
        SSHOpt: create(SSHOptSchema, {
          ID: s.id ?? "", uid: s.uid ?? 0, gid: s.gid ?? 0, mode: s.mode ?? 0o600, optional: s.optional ?? false,
        }),
      }));
    });
  }
}

function producesOutput(m: ExecMountSpec): boolean {
  return !m.noOutput && !m.readonly && m.type === "bind";
}

function sshTarget(s: ExecSshSpec, i: number): string {
  return s.target || `/run/buildkit/ssh_agent.${i}`;
}

// With known daemon caps, upstream's client adds PATH itself only for daemons that do not.
function applyDefaultPath(ctx: MarshalContext, env: Map<string, string>, caps: Set<string>): void {
  const daemonCaps = ctx.options.caps;
  if (daemonCaps === undefined) return;
  if (daemonCaps.has(Caps.execMetaSetsDefaultPath)) {
    caps.add(Caps.execMetaSetsDefaultPath);
  } else if (!env.has("PATH")) {
    env.set("PATH", DefaultPathEnv);
  }
}
