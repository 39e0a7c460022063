// The runc executor: one OCI bundle per run under `<root>/<id>/` (rootfs mount point, per-mount dirs,
// generated hosts/resolv.conf, config.json), `runc run` in the foreground with piped stdio, and a cleanup
// that always leaves no runc state, no mounts and no bundle behind, whether the process exited, failed to
// start or was canceled.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import type { ExecMount, Executor, ProcessSpec, RunOptions, RunResult } from "./executor.js";
import { buildHostsFile } from "./hosts-file.js";
import { mkdirInRoot } from "./mkdir-in-root.js";
import { mountPointsUnder } from "./mount-points-under.js";
import { ALL_CAPABILITIES, buildSpec, specToJson, type OciMount } from "./oci-spec.js";
import { resolveInRoot } from "./resolve-in-root.js";
import { buildResolvConf } from "./resolv-conf.js";
import { removeEmptyStubs } from "./remove-stubs.js";
import { RuncCli } from "./runc-cli.js";
import { resolveUser } from "./user.js";
import type { Mount } from "../snapshot/snapshotter.js";
import { mountAll, unmountAll } from "../snapshot/mount.js";
import { GantryError, errnoOf, messageOf, throwIfAborted } from "../util/errors.js";

export interface RuncExecutorOptions {
  /** State directory for bundles, e.g. `<gantryRoot>/executor`; created on first use. */
  root: string;
  /** The runc binary (default: `runc` from PATH). */
  runcPath?: string;
  /** The host's resolver config the containers' resolv.conf derives from (default /etc/resolv.conf). */
  hostResolvConf?: string;
}

/** What `run` reports; the stub lists extend the contract's RunResult. */
export interface RuncRunResult extends RunResult {
  /**
   * Mount stubs this run created in the root filesystem (the op's mount destinations, /etc/hosts,
   * /etc/resolv.conf and their missing parents) that are still there after the run, parents before
   * children. The executor removes the empty ones itself before unmounting the root (upstream's stub
   * cleaner), so this lists only stubs the process filled or linked over, normally none; the exec op
   * need not mount the root again to clean up.
   */
  createdStubs?: string[];
  /** Stubs this run created and removed again (empty after the run), children before parents. */
  removedStubs?: string[];
}

/** Mount points that runc fills itself; destinations beneath them are runc's to create. */
const RUNC_OWNED = ["/proc", "/dev", "/sys"];

/** Creates a runc executor; nothing touches the disk until the first `run`. */
export function createRuncExecutor(opts: RuncExecutorOptions): RuncExecutor {
  return new RuncExecutor(opts);
}

interface PreparedMount {
  oci: OciMount;
  leaf: "dir" | "file";
}

/** Runs deferred cleanups in reverse order, all of them, reporting the first failure. */
class CleanupStack {
  readonly #fns: Array<() => Promise<void>> = [];

  defer(fn: () => Promise<void>): void {
    this.#fns.push(fn);
  }

  async run(): Promise<void> {
    let first: unknown;
    for (const fn of this.#fns.reverse()) {
      try {
        await fn();
      } catch (err) {
        first ??= err;
      }
    }
    this.#fns.length = 0;
    if (first !== undefined) throw first;
  }
}

export class RuncExecutor implements Executor {
  readonly #root: string;
  readonly #runcPath: string;
  readonly #hostResolvConf: string;
  #ready: Promise<{ root: string; cli: RuncCli; cgroupNs: boolean; allCaps: readonly string[] }> | undefined;

  constructor(opts: RuncExecutorOptions) {
    this.#root = opts.root;
    this.#runcPath = opts.runcPath ?? "runc";
    this.#hostResolvConf = opts.hostResolvConf ?? "/etc/resolv.conf";
  }

  /** The directory given to `runc --root`: `<root>/runc`. */
  get stateRoot(): string {
    return join(this.#root, "runc");
  }

  /**
   * Runs `process` in a fresh container (see Executor.run). The result's `createdStubs` lists the mount
   * stubs it created in the root filesystem. A process that cannot start is InvalidArgument (bad command
   * or cwd) or Internal; an unknown user is InvalidArgument; abort is Canceled after full cleanup.
   */
  async run(root: Mount[], mounts: ExecMount[], process: ProcessSpec, opts: RunOptions = {}): Promise<RuncRunResult> {
    throwIfAborted(opts.signal);
    // A failed start-up (unwritable root) is retried on the next run rather than remembered.
    const env = await (this.#ready ??= this.#init().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    }));
    const id = randomBytes(12).toString("hex");
    const bundle = join(env.root, id);
    const cleanup = new CleanupStack();
    let result: RuncRunResult;
    try {
      await mkdir(bundle, { mode: 0o711 });
      cleanup.defer(() => removeBundle(bundle));
      const rootfs = join(bundle, "rootfs");
      const hostsFile = join(bundle, "hosts");
      const resolvConf = join(bundle, "resolv.conf");
      cleanup.defer(() => unmountAll(rootfs));
      // The root mount is a process spawn: write the bundle's own files meanwhile.
      await settleAll([
        mkdir(rootfs, { mode: 0o755 }).then(() => mountAll(root, rootfs)),
        writeFile(hostsFile, buildHostsFile(process.hostname, process.extraHosts), { mode: 0o644 }),
        readOptional(this.#hostResolvConf).then((host) =>
          writeFile(resolvConf, buildResolvConf(host, process.network), { mode: 0o644 })),
      ]);

      const user = await resolveUser(rootfs, process.user);
      const prepared = await prepareMounts(bundle, mounts, cleanup);
      const stubs = await createStubs(rootfs, prepared);
      await mkdirInRoot(rootfs, process.cwd || "/", { uid: user.uid, gid: user.gid });
      const spec = buildSpec({
        id, rootfs, process, user, hostsFile, resolvConf, mounts: prepared.map((m) => m.oci),
        cgroupNamespace: env.cgroupNs, allCapabilities: env.allCaps,
      });
      await writeFile(join(bundle, "config.json"), specToJson(spec));

      throwIfAborted(opts.signal);
      // `runc run` removes its container when it exits; only a runc that was killed or failed leaves state.
      cleanup.defer(() => env.cli.deleteLeftover(id));
      const exitCode = await env.cli.run(id, bundle, {
        pidFile: join(bundle, "init.pid"), logFile: join(bundle, "runc.log"),
        output: process.output, stdin: process.stdin, signal: opts.signal,
      });
      // While the root is still mounted, as upstream's stub cleaner does; what is left goes to the op.
      const { removed, kept } = await removeEmptyStubs(rootfs, stubs);
      result = { exitCode, createdStubs: kept.reverse(), removedStubs: removed };
    } catch (err) {
      // The run's own error is the one worth reporting; a cleanup failure after it would only hide it.
      await cleanup.run().catch(() => undefined);
      throw err;
    }
    await cleanup.run();
    return result;
  }

  async #init(): Promise<{ root: string; cli: RuncCli; cgroupNs: boolean; allCaps: readonly string[] }> {
    await mkdir(this.#root, { recursive: true, mode: 0o711 });
    // Mount points in /proc/self/mountinfo are real paths; compare against the same spelling.
    const root = await realpath(this.#root);
    const lastCap = Number.parseInt((await readOptional("/proc/sys/kernel/cap_last_cap")) ?? "", 10);
    return {
      root,
      cli: new RuncCli(this.#runcPath, join(root, "runc")),
      // Upstream adds a cgroup namespace only on cgroup v2, where nesting is well defined.
      cgroupNs: (await readOptional("/sys/fs/cgroup/cgroup.subtree_control")) !== undefined,
      allCaps: Number.isNaN(lastCap) ? ALL_CAPABILITIES : ALL_CAPABILITIES.slice(0, lastCap + 1),
    };
  }
}

function normalizeDest(dest: string): string {
  return posix.normalize(posix.join("/", dest));
}

async function kindOf(hostPath: string, what: string): Promise<"dir" | "file"> {
  try {
    return (await stat(hostPath)).isDirectory() ? "dir" : "file";
  } catch (err) {
    if (errnoOf(err) === "ENOENT") throw new GantryError("NotFound", `Cannot mount ${what}: ${hostPath} does not exist.`);
    throw err;
  }
}

/** Turns the op's mounts into OCI mounts, mounting snapshot mounts onto `<bundle>/mnt/<n>` first. */
async function prepareMounts(bundle: string, mounts: ExecMount[], cleanup: CleanupStack): Promise<PreparedMount[]> {
  const out: PreparedMount[] = [];
  for (const [i, m] of mounts.entries()) {
    const destination = normalizeDest(m.dest);
    const ro = m.readonly ? ["ro"] : [];
    if (m.hostPath !== undefined) {
      const leaf = await kindOf(m.hostPath, destination);
      out.push({ leaf, oci: { destination, type: "bind", source: m.hostPath, options: ["rbind", ...ro] } });
    } else if (m.mounts.length > 0) {
      const dir = join(bundle, "mnt", String(i));
      await mkdir(dir, { recursive: true });
      cleanup.defer(() => unmountAll(dir));
      await mountAll(m.mounts, dir);
      const source = await selectorPath(dir, m.selector, destination);
      out.push({ leaf: await kindOf(source, destination), oci: { destination, type: "bind", source, options: ["rbind", ...ro] } });
    } else if (m.tmpfs) {
      const size = m.tmpfs.size && m.tmpfs.size > 0 ? [`size=${m.tmpfs.size}`] : [];
      out.push({ leaf: "dir", oci: { destination, type: "tmpfs", source: "tmpfs", options: ["nosuid", ...ro, ...size] } });
    } else {
      throw new GantryError("InvalidArgument", `Cannot mount ${destination}: the mount has no source (no snapshot, tmpfs or host path).`);
    }
  }
  return out;
}

/** The host path of `selector` inside a mounted source, resolved without leaving it; it must exist. */
async function selectorPath(dir: string, selector: string | undefined, dest: string): Promise<string> {
  if (!selector || normalizeDest(selector) === "/") return dir;
  const r = await resolveInRoot(dir, selector);
  if (r.missing > 0) {
    throw new GantryError("NotFound", `Cannot mount ${dest}: ${normalizeDest(selector)} does not exist in its source.`);
  }
  return r.hostPath;
}

function isUnder(p: string, parent: string): boolean {
  return parent === "/" ? true : p.startsWith(parent + "/");
}

/**
 * Creates missing mount targets in the root filesystem (upstream lets runc make them and cleans up the
 * empty ones afterwards; creating them here lets us report exactly what was made). Targets beneath an
 * earlier mount or beneath /proc, /dev, /sys land in that mount, not in the root, so runc makes those.
 */
async function createStubs(rootfs: string, prepared: PreparedMount[]): Promise<string[]> {
  const created: string[] = [];
  for (const dest of ["/etc/resolv.conf", "/etc/hosts"]) created.push(...await mkdirInRoot(rootfs, dest, { leaf: "file" }));
  const earlier: string[] = [...RUNC_OWNED];
  for (const { oci, leaf } of prepared) {
    const dest = oci.destination;
    if (dest !== "/" && !earlier.some((e) => dest === e || isUnder(dest, e))) {
      created.push(...await mkdirInRoot(rootfs, dest, { leaf }));
    }
    earlier.push(dest);
  }
  return created;
}

async function readOptional(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, "utf8");
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw err;
  }
}

/** Waits for all of `work`, then rejects with the first failure: cleanup must not race a pending write. */
async function settleAll(work: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Deletes a bundle only once nothing is mounted inside it, so a failed unmount cannot cost a snapshot. */
async function removeBundle(bundle: string): Promise<void> {
  const still = await mountPointsUnder(bundle);
  if (still.length > 0) {
    throw new GantryError("Internal", `Cannot remove bundle ${bundle}: ${still.join(", ")} is still mounted.`);
  }
  try {
    await rm(bundle, { recursive: true, force: true });
  } catch (err) {
    throw new GantryError("Internal", `Cannot remove bundle ${bundle}: ${messageOf(err)}`, { cause: err });
  }
}
