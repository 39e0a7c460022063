// ExecOp: run a command in a container over the op's mounts; writable mounts with an output become results.
import { MountType, NetMode, SecurityMode, type ExecOp, type Op } from "../gen/pb/ops_pb.js";
import type { MutableRef } from "../cache/ref-manager.js";
import type { NetworkMode, ProcessSpec } from "../executor/executor.js";
import { removeEmptyStubs } from "../executor/remove-stubs.js";
import { formatPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import type { CacheMap, CacheMapDep, Op as SolverOp, OpContext } from "../solver/types.js";
import { ExecError, GantryError } from "../util/errors.js";
import type { BuildContext } from "./build-context.js";
import { prepareExecMounts } from "./exec-mounts.js";
import { inputChecksum } from "./input-checksum.js";
import { opCacheDigest } from "./op-cache-digest.js";
import type { OpDeps } from "./op-deps.js";
import { withMounted } from "./with-mounted.js";
import { WorkerRef } from "./worker-ref.js";

export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const TAIL_LINES = 10;

function networkOf(exec: ExecOp, build: BuildContext): NetworkMode {
  if (exec.network === NetMode.NONE) return "none";
  if (exec.network === NetMode.HOST) {
    if (!build.entitlements.has("network.host")) {
      throw new GantryError("FailedPrecondition", "network.host is not allowed: grant it with --allow network.host.");
    }
    return "host";
  }
  return "sandbox";
}

function processOf(exec: ExecOp, build: BuildContext): ProcessSpec {
  const meta = exec.meta;
  if (!meta || meta.args.length === 0) throw new GantryError("InvalidArgument", "The exec op has no command (meta.args is empty).");
  const env = [...meta.env];
  if (!env.some((e) => e.startsWith("PATH="))) env.push(DEFAULT_PATH);
  const proxy = meta.proxyEnv;
  if (proxy) {
    const pairs: Array<[string, string]> = [["HTTP_PROXY", proxy.httpProxy], ["HTTPS_PROXY", proxy.httpsProxy], ["FTP_PROXY", proxy.ftpProxy], ["NO_PROXY", proxy.noProxy], ["ALL_PROXY", proxy.allProxy]];
    for (const [k, v] of pairs) if (v) env.push(`${k}=${v}`, `${k.toLowerCase()}=${v}`);
  }
  if (exec.security === SecurityMode.INSECURE && !build.entitlements.has("security.insecure")) {
    throw new GantryError("FailedPrecondition", "security.insecure is not allowed: grant it with --allow security.insecure.");
  }
  return {
    args: meta.args,
    env,
    cwd: meta.cwd || "/",
    user: meta.user || "root",
    ...(meta.hostname ? { hostname: meta.hostname } : {}),
    network: networkOf(exec, build),
    extraHosts: meta.extraHosts.map((h) => ({ host: h.Host, ip: h.IP })),
    ulimits: meta.ulimit.map((u) => ({ name: u.Name, soft: Number(u.Soft), hard: Number(u.Hard) })),
    privileged: exec.security === SecurityMode.INSECURE,
  };
}

/** Per input: the selectors of its mounts; content-based only when every mount of it is read-only and not the root. */
function inputDeps(op: Op, exec: ExecOp, deps: OpDeps): CacheMapDep<WorkerRef>[] {
  return op.inputs.map((_, i) => {
    const uses = exec.mounts.filter((m) => Number(m.input) === i && m.mountType === MountType.BIND);
    const selectors = uses.map((m) => `/${m.selector.replace(/^\/+/, "")}`).sort();
    const readonlyOnly = uses.length > 0 && uses.every((m) => m.readonly && m.dest !== "/");
    return {
      ...(selectors.some((s) => s !== "/") ? { selector: selectors.join("\0") } : {}),
      ...(readonlyOnly ? { computeDigest: (input: WorkerRef, ctx: OpContext) => inputChecksum(deps, input, { paths: selectors.filter((s) => s !== "/") }, ctx) } : {}),
    };
  });
}

export function createExecOp(op: Op, exec: ExecOp, platform: Platform, build: BuildContext, deps: OpDeps): SolverOp<WorkerRef> {
  return {
    acquire: (signal) => deps.execLimiter.acquire(signal),
    async cacheMap(): Promise<CacheMap<WorkerRef>> {
      const { proxyEnv: _p, ...meta } = exec.meta ?? { proxyEnv: undefined };
      const keyOp: Op = { ...op, op: { case: "exec", value: { ...exec, meta: meta as ExecOp["meta"] } } };
      return { digest: opCacheDigest("exec", keyOp, formatPlatform(platform)), deps: inputDeps(op, exec, deps) };
    },
    async exec(ctx: OpContext, inputs: readonly WorkerRef[]): Promise<WorkerRef[]> {
      const proc = processOf(exec, build);
      const prepared = await prepareExecMounts(exec, inputs, ctx, deps, build);
      const tail: string[] = [];
      let partial = "";
      proc.output = (stream, data) => {
        ctx.progress.log(stream, data);
        const lines = (partial + Buffer.from(data).toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        tail.push(...lines);
        if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
      };
      try {
        const res = await deps.executor.run(prepared.root, prepared.mounts, proc, { signal: ctx.signal });
        if (res.exitCode !== 0) throw new ExecError(proc.args, res.exitCode, partial ? [...tail, partial].slice(-TAIL_LINES) : tail);
        if (res.createdStubs?.length) await removeStubs(prepared.rootMutable, res.createdStubs, deps.tmpDir);
        const results: WorkerRef[] = [];
        const n = Math.max(-1, ...prepared.outputs.keys()) + 1;
        for (let i = 0; i < n; i++) {
          const m = prepared.outputs.get(i);
          results.push(m ? new WorkerRef(await m.commit()) : WorkerRef.scratch());
          prepared.outputs.delete(i);
        }
        return results;
      } finally {
        for (const m of prepared.outputs.values()) await m.release().catch(() => undefined);
        await prepared.release();
      }
    },
  };
}

/**
 * Removes the mount points the executor created and left behind, deepest first, when they are still empty.
 * The runc executor removes its empty stubs itself while the root is still mounted, so this mount is only
 * paid for stubs it kept (or by an executor that does not clean up).
 */
async function removeStubs(root: MutableRef, stubs: readonly string[], tmpDir: string): Promise<void> {
  await withMounted(root, tmpDir, (dir) => removeEmptyStubs(dir, stubs));
}
