// The Executor contract: the only place that starts containers.
import type { Readable } from "node:stream";
import type { Mount } from "../snapshot/snapshotter.js";

export type NetworkMode = "none" | "host" | "sandbox";

export interface ProcessSpec {
  args: string[];
  /** `K=V` entries, passed as they are (the op adds the default PATH). */
  env: string[];
  cwd: string;
  /** `uid`, `uid:gid`, `name` or `name:group`, resolved against the rootfs' /etc/passwd and /etc/group. */
  user: string;
  hostname?: string;
  network: NetworkMode;
  extraHosts?: Array<{ host: string; ip: string }>;
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  /** Receives the process's output as it comes, 1 = stdout, 2 = stderr. */
  output?: (stream: 1 | 2, data: Uint8Array) => void;
  /** Runs without the sandbox's limits (security.insecure). */
  privileged?: boolean;
  /** Bytes for the process's stdin (gateway frontends talk gRPC over stdio); without it stdin is /dev/null. */
  stdin?: Readable;
}

/** A mount inside the container. Either snapshot mounts (overlay/bind, mounted by the executor) or tmpfs. */
export interface ExecMount {
  dest: string;
  /** Mounts of a snapshot (from Snapshotter.prepare/view/mounts); empty for tmpfs. */
  mounts: Mount[];
  /** A path inside the mounted source to bind instead of its root. */
  selector?: string;
  readonly: boolean;
  tmpfs?: { size?: number };
  /** A plain file or directory on the host to bind (secrets, ssh sockets). */
  hostPath?: string;
}

export interface RunResult {
  exitCode: number;
  /**
   * Mount targets the executor created in the rootfs and could not remove itself (container paths, parents
   * first; normally none: empty stubs are removed while the rootfs is still mounted, as upstream does). The op
   * removes these, in reverse, from the layer it keeps.
   */
  createdStubs?: string[];
}

export interface RunOptions {
  signal?: AbortSignal;
}

export interface Executor {
  /**
   * Runs the process with `root` as its root filesystem (read-write) plus `mounts`. Resolves with the exit
   * status (non-zero is not an error here; the op decides). On abort it kills the container, removes its
   * runc state and unmounts everything, then rejects with Canceled.
   */
  run(root: Mount[], mounts: ExecMount[], process: ProcessSpec, opts?: RunOptions): Promise<RunResult>;
}
