// Prepares an ExecOp's mounts for the executor: writable snapshots for the root and output mounts,
// read-only views for inputs, cache directories, tmpfs, secret files. Everything it makes, `release` undoes.
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { CacheSharingOpt, MountType, type ExecOp, type Mount as PbMount } from "../gen/pb/ops_pb.js";
import type { CacheSharing, MutableRef } from "../cache/ref-manager.js";
import type { ExecMount } from "../executor/executor.js";
import type { Mount } from "../snapshot/snapshotter.js";
import type { OpContext } from "../solver/types.js";
import { GantryError, isNotFound } from "../util/errors.js";
import { DEFAULT_SSH_ID, hasSshForwarding, noSshAgentMessage } from "../session/ssh-forwarding.js";
import { listenSshSocket } from "../session/ssh-socket-server.js";
import type { BuildContext } from "./build-context.js";
import type { OpDeps } from "./op-deps.js";
import type { WorkerRef } from "./worker-ref.js";

export interface PreparedMounts {
  root: Mount[];
  rootMutable: MutableRef;
  mounts: ExecMount[];
  /** Writable snapshots whose content becomes op outputs, by output index. */
  outputs: Map<number, MutableRef>;
  /** Discards what is not an output and releases views and scratch files. */
  release(): Promise<void>;
}

function inputOf(m: PbMount, inputs: readonly WorkerRef[]): WorkerRef | undefined {
  const i = Number(m.input);
  return i < 0 ? undefined : inputs[i];
}

export async function prepareExecMounts(exec: ExecOp, inputs: readonly WorkerRef[], ctx: OpContext, deps: OpDeps, build: BuildContext): Promise<PreparedMounts> {
  const cleanups: Array<() => Promise<void>> = [];
  const outputs = new Map<number, MutableRef>();
  const mounts: ExecMount[] = [];
  let root: { mounts: Mount[]; mutable: MutableRef } | undefined;
  const release = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    for (const m of exec.mounts) {
      if (m.dest === "/" ) {
        const mutable = await deps.refs.newMutable(inputOf(m, inputs)?.ref ?? null, { signal: ctx.signal });
        if (Number(m.output) >= 0) outputs.set(Number(m.output), mutable);
        else cleanups.push(() => mutable.release());
        root = { mounts: await mutable.mounts(), mutable };
        continue;
      }
      const em = await prepareOne(m, inputs, ctx, deps, build, { args: exec.meta?.args ?? [], outputs, cleanups });
      if (em) mounts.push(em);
    }
  } catch (err) {
    await release();
    for (const o of outputs.values()) await o.release().catch(() => undefined);
    throw err;
  }
  if (!root) {
    await release();
    throw new GantryError("InvalidArgument", "The exec op has no root mount (dest \"/\").");
  }
  return { root: root.mounts, rootMutable: root.mutable, mounts, outputs, release };
}

interface Collect {
  /** The command, for cache mount descriptions. */
  args: readonly string[];
  outputs: Map<number, MutableRef>;
  cleanups: Array<() => Promise<void>>;
}

async function prepareOne(m: PbMount, inputs: readonly WorkerRef[], ctx: OpContext, deps: OpDeps, build: BuildContext, c: Collect): Promise<ExecMount | undefined> {
  const selector = m.selector ? m.selector.replace(/^\/+/, "") : undefined;
  switch (m.mountType) {
    case MountType.BIND: {
      const input = inputOf(m, inputs);
      if (m.readonly && Number(m.output) < 0) {
        const view = await deps.refs.mountReadonly(input?.ref ?? null, { signal: ctx.signal });
        c.cleanups.push(() => view.release());
        return { dest: m.dest, mounts: [], hostPath: selector ? join(view.dir, selector) : view.dir, readonly: true };
      }
      const mutable = await deps.refs.newMutable(input?.ref ?? null, { signal: ctx.signal });
      if (Number(m.output) >= 0) c.outputs.set(Number(m.output), mutable);
      else c.cleanups.push(() => mutable.release());
      return { dest: m.dest, mounts: await mutable.mounts(), ...(selector ? { selector } : {}), readonly: m.readonly };
    }
    case MountType.TMPFS:
      return { dest: m.dest, mounts: [], tmpfs: { size: m.TmpfsOpt?.size ? Number(m.TmpfsOpt.size) : undefined }, readonly: false };
    case MountType.CACHE:
      return cacheMount(m, inputOf(m, inputs), ctx, deps, c);
    case MountType.SECRET:
      return secretMount(m, ctx, deps, build, c);
    case MountType.SSH:
      return sshMount(m, ctx, deps, build, c);
    default:
      throw new GantryError("InvalidArgument", `Unknown mount type ${m.mountType} at ${m.dest}.`);
  }
}

function sharingOf(m: PbMount): CacheSharing {
  if (m.cacheOpt?.sharing === CacheSharingOpt.PRIVATE) return "private";
  if (m.cacheOpt?.sharing === CacheSharingOpt.LOCKED) return "locked";
  return "shared";
}

// A persistent `exec.cachemount` record found by its id and base (`from=`), held for the run.
async function cacheMount(m: PbMount, from: WorkerRef | undefined, ctx: OpContext, deps: OpDeps, c: Collect): Promise<ExecMount> {
  const id = m.cacheOpt?.ID || m.dest;
  const lease = await deps.refs.acquireCacheMount({
    shareKey: `${id}\0${from?.id ?? ""}`,
    parent: from?.ref ?? null,
    sharing: sharingOf(m),
    description: `cached mount ${m.dest} from exec ${c.args.join(" ")}`,
    signal: ctx.signal,
  });
  c.cleanups.push(() => lease.release());
  const sub = posix.normalize(`/${m.selector}`).slice(1);
  const hostPath = sub ? join(lease.dir, sub) : lease.dir;
  if (sub) await mkdir(hostPath, { recursive: true });
  return { dest: m.dest, mounts: [], hostPath, readonly: m.readonly };
}

async function secretMount(m: PbMount, ctx: OpContext, deps: OpDeps, build: BuildContext, c: Collect): Promise<ExecMount | undefined> {
  const opt = m.secretOpt;
  const id = opt?.ID ?? "";
  let data: Uint8Array;
  try {
    data = await build.session.getSecret(id, { signal: ctx.signal });
  } catch (err) {
    if (isNotFound(err) && opt?.optional) return undefined;
    if (isNotFound(err)) throw new GantryError("NotFound", `secret ${id} not found`, { cause: err });
    throw err;
  }
  const dir = await mkdtemp(join(deps.tmpDir, "secret-"));
  c.cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "secret");
  await writeFile(file, data, { mode: opt?.mode || 0o400 });
  await chmod(file, opt?.mode || 0o400);
  await chown(file, opt?.uid ?? 0, opt?.gid ?? 0);
  return { dest: m.dest, mounts: [], hostPath: file, readonly: true };
}

// A unix socket bound at the mount's target; each connection to it reaches the client's agent. An
// optional mount the client does not forward is left out, as upstream does.
async function sshMount(m: PbMount, ctx: OpContext, deps: OpDeps, build: BuildContext, c: Collect): Promise<ExecMount | undefined> {
  const opt = m.SSHOpt;
  const id = opt?.ID || DEFAULT_SSH_ID;
  const session = build.session;
  if (!hasSshForwarding(session)) {
    if (opt?.optional) return undefined;
    throw new GantryError("NotFound", noSshAgentMessage(id));
  }
  try {
    await session.checkSsh(id, { signal: ctx.signal });
  } catch (err) {
    if (isNotFound(err) && opt?.optional) return undefined;
    throw err;
  }
  // Socket paths are limited to 107 bytes: fall back to the system temp dir when the state dir is deep.
  const parentDir = deps.tmpDir.length <= 60 ? deps.tmpDir : tmpdir();
  const sock = await listenSshSocket(session, {
    id, parentDir, uid: opt?.uid ?? 0, gid: opt?.gid ?? 0, mode: (opt?.mode ?? 0o600) & 0o777, signal: ctx.signal,
  });
  c.cleanups.push(() => sock.close());
  return { dest: m.dest, mounts: [], hostPath: sock.path, readonly: false };
}
