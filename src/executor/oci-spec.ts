// The OCI runtime spec (config.json, version 1.0.2) for one build container. Pure: the executor gathers the
// facts (resolved user, mount sources, generated hosts/resolv.conf paths) and this turns them into the
// document upstream would hand runc: containerd's default Unix spec with BuildKit's changes on top
// (no /run tmpfs, read-only cgroupfs, hosts/resolv.conf binds, new privileges allowed, no default rlimits).
import type { ProcessSpec } from "./executor.js";
import { DEFAULT_HOSTNAME } from "./hosts-file.js";
import type { ExecUser } from "./user.js";

export const OCI_VERSION = "1.0.2";

/** Docker's (and containerd's) default capability set, which upstream gives every sandboxed step. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Every capability by number (index = capability number), for privileged steps. */
export const ALL_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi",
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
];

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** An rlimit value; `"unlimited"` is written as the largest uint64, which a JS number cannot hold. */
export type RlimitValue = number | "unlimited";

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable?: string[]; ambient?: string[] };
    rlimits?: Array<{ type: string; hard: RlimitValue; soft: RlimitValue }>;
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: Array<{ type: string }>;
    maskedPaths: string[];
    readonlyPaths: string[];
    cgroupsPath: string;
    resources: { devices: Array<{ allow: boolean; type?: string; access: string }> };
  };
}

export interface SpecInput {
  /** Container id; also names the cgroup (`/gantry/<id>`). */
  id: string;
  /** Host path of the mounted root filesystem. */
  rootfs: string;
  process: Pick<ProcessSpec, "args" | "env" | "cwd" | "hostname" | "network" | "ulimits" | "privileged">;
  user: ExecUser;
  /** Host paths of the generated files bind-mounted read-only over /etc/hosts and /etc/resolv.conf. */
  hostsFile: string;
  resolvConf: string;
  /** The op's mounts, already turned into OCI mounts, in the order runc must mount them. */
  mounts: OciMount[];
  /** Add a cgroup namespace (upstream does on cgroup v2 hosts only). */
  cgroupNamespace?: boolean;
  /** Capabilities a privileged step gets (default: ALL_CAPABILITIES). */
  allCapabilities?: readonly string[];
}

function defaultMounts(privileged: boolean): OciMount[] {
  const sysOpts = privileged ? ["nosuid", "noexec", "nodev"] : ["nosuid", "noexec", "nodev", "ro"];
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: sysOpts },
  ];
}

/** Later mounts replace earlier ones with the same destination, keeping the first one's position. */
function dedupMounts(mounts: OciMount[]): OciMount[] {
  const out: OciMount[] = [];
  const index = new Map<string, number>();
  for (const m of mounts) {
    const at = index.get(m.destination);
    if (at === undefined) {
      index.set(m.destination, out.length);
      out.push(m);
    } else {
      out[at] = m;
    }
  }
  return out;
}

function rlimitValue(n: number): RlimitValue {
  return n < 0 ? "unlimited" : n;
}

/** Builds the runtime spec for one run. Throws nothing: inputs are validated by the executor. */
export function buildSpec(input: SpecInput): OciSpec {
  const p = input.process;
  const privileged = p.privileged === true;
  const caps = privileged ? [...(input.allCapabilities ?? ALL_CAPABILITIES)] : [...DEFAULT_CAPABILITIES];
  const etcOpts = ["nosuid", "noexec", "nodev", "rbind", "ro"];
  const cgroupOpts = privileged ? ["nosuid", "noexec", "nodev"] : ["ro", "nosuid", "noexec", "nodev"];
  const namespaces = ["pid", "ipc", "uts", "mount"];
  // `sandbox` would be a CNI bridge upstream; without CNI it shares the host's network, as upstream's
  // "auto" mode does when no CNI config is present.
  if (p.network === "none") namespaces.push("network");
  if (input.cgroupNamespace) namespaces.push("cgroup");

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: [...input.user.additionalGids] },
      args: [...p.args],
      env: [...p.env],
      cwd: p.cwd || "/",
      capabilities: privileged
        ? { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps }
        : { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: false,
    },
    root: { path: input.rootfs, readonly: false },
    hostname: p.hostname || DEFAULT_HOSTNAME,
    mounts: dedupMounts([
      ...defaultMounts(privileged),
      { destination: "/etc/resolv.conf", type: "bind", source: input.resolvConf, options: etcOpts },
      { destination: "/etc/hosts", type: "bind", source: input.hostsFile, options: etcOpts },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: cgroupOpts },
      ...input.mounts,
    ]),
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      maskedPaths: privileged ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: privileged ? [] : [...DEFAULT_READONLY_PATHS],
      cgroupsPath: `/gantry/${input.id}`,
      resources: {
        devices: privileged
          ? [{ allow: true, type: "c", access: "rwm" }, { allow: true, type: "b", access: "rwm" }]
          : [{ allow: false, access: "rwm" }],
      },
    },
  };
  if (p.ulimits && p.ulimits.length > 0) {
    spec.process.rlimits = p.ulimits.map((u) => ({
      type: `RLIMIT_${u.name.toUpperCase()}`, hard: rlimitValue(u.hard), soft: rlimitValue(u.soft),
    }));
  }
  return spec;
}

/** Serialises a spec for config.json, writing `"unlimited"` rlimits as 18446744073709551615 (uint64 max). */
export function specToJson(spec: OciSpec): string {
  return JSON.stringify(spec, null, 2).replace(/"(hard|soft)": "unlimited"/g, '"$1": 18446744073709551615');
}
