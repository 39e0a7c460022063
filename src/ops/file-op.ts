// FileOp: an ordered list of actions over the op's inputs and earlier actions' results. An action whose
// result feeds exactly one later action hands its writable snapshot on, so a chain of mkdir/mkfile/copy
// becomes one layer, as upstream's does.
import type { FileAction, FileOp, Op } from "../gen/pb/ops_pb.js";
import type { ImmutableRef, MutableRef, ReadonlyMount } from "../cache/ref-manager.js";
import { formatPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import type { CacheMap, CacheMapDep, Op as SolverOp, OpContext } from "../solver/types.js";
import { directWriteDir } from "./direct-write.js";
import { runFileAction } from "./file-action-runner.js";
import { inputChecksum } from "./input-checksum.js";
import { opCacheDigest } from "./op-cache-digest.js";
import type { OpDeps } from "./op-deps.js";
import { withMounted } from "./with-mounted.js";
import { WorkerRef } from "./worker-ref.js";

type Slot = { kind: "mutable"; ref: MutableRef } | { kind: "immutable"; ref: ImmutableRef | null };

function uses(actions: readonly FileAction[], index: number): number {
  let n = 0;
  for (const a of actions) {
    if (Number(a.input) === index) n++;
    if (Number(a.secondaryInput) === index) n++;
  }
  return n;
}

/** Copy sources are content-keyed by the paths they read; inputs that are only written to are keyed by definition. */
function inputDeps(op: Op, file: FileOp, deps: OpDeps): CacheMapDep<WorkerRef>[] {
  return op.inputs.map((_, i) => {
    const copies = file.actions.filter((a) => a.action.case === "copy" && Number(a.secondaryInput) === i);
    const isBase = file.actions.some((a) => Number(a.input) === i);
    if (copies.length === 0 || isBase) return {};
    const srcs = copies.map((a) => (a.action.case === "copy" ? a.action.value : undefined)).filter((c) => c !== undefined);
    const paths = [...new Set(srcs.map((c) => `/${c.src.replace(/^\/+/, "")}`))].sort().reverse();
    return {
      selector: paths.join("\0"),
      computeDigest: (input: WorkerRef, ctx: OpContext) => inputChecksum(deps, input, {
        paths, followSymlinks: srcs.some((c) => c.followSymlink), wildcard: srcs.some((c) => c.allowWildcard),
      }, ctx),
    };
  });
}

export function createFileOp(op: Op, file: FileOp, platform: Platform, deps: OpDeps): SolverOp<WorkerRef> {
  return {
    async cacheMap(): Promise<CacheMap<WorkerRef>> {
      return { digest: opCacheDigest("file", op, formatPlatform(platform)), deps: inputDeps(op, file, deps) };
    },
    exec: (ctx, inputs) => runActions(file, inputs, ctx, deps),
  };
}

async function runActions(file: FileOp, inputs: readonly WorkerRef[], ctx: OpContext, deps: OpDeps): Promise<WorkerRef[]> {
  const n = inputs.length;
  const slots = new Map<number, Slot>();
  const views: ReadonlyMount[] = [];
  const results = new Map<number, WorkerRef>();
  try {
    for (let j = 0; j < file.actions.length; j++) {
      const action = file.actions[j];
      const base = await takeBase(Number(action.input), j, file, inputs, slots, ctx, deps);
      slots.set(n + j, { kind: "mutable", ref: base });
      const view = async (index: number): Promise<string | undefined> => {
        if (index < 0) return undefined;
        const ref = index < n ? inputs[index].ref : await freeze(index, slots);
        const v = await deps.refs.mountReadonly(ref, { signal: ctx.signal });
        views.push(v);
        return v.dir;
      };
      const secondary = action.action.case === "copy" ? await view(Number(action.secondaryInput)) ?? (await emptyView(deps, views, ctx)) : undefined;
      const run = (dir: string): Promise<void> => runFileAction(action, {
        base: dir, secondary, dirOf: (i) => (i === Number(action.input) ? Promise.resolve(dir) : view(i)),
      }, ctx.signal);
      const direct = await directWriteDir(action, await base.mounts());
      await (direct !== undefined ? run(direct) : withMounted(base, deps.tmpDir, run));
      if (Number(action.output) >= 0) results.set(Number(action.output), new WorkerRef((await freeze(n + j, slots))?.clone() ?? null));
    }
    const count = Math.max(-1, ...results.keys()) + 1;
    const out: WorkerRef[] = [];
    for (let i = 0; i < count; i++) out.push(results.get(i)?.clone() ?? WorkerRef.scratch());
    return out;
  } finally {
    for (const r of results.values()) await r.release();
    for (const v of views) await v.release().catch(() => undefined);
    for (const s of slots.values()) await s.ref?.release().catch(() => undefined);
  }
}

/** The writable snapshot action `j` works on: handed on from its input action when nobody else needs it. */
async function takeBase(input: number, j: number, file: FileOp, inputs: readonly WorkerRef[], slots: Map<number, Slot>, ctx: OpContext, deps: OpDeps): Promise<MutableRef> {
  const n = inputs.length;
  if (input < 0) return deps.refs.newMutable(null, { signal: ctx.signal });
  if (input < n) return deps.refs.newMutable(inputs[input].ref, { signal: ctx.signal });
  const k = input - n;
  const slot = slots.get(input);
  const prev = file.actions[k];
  if (slot?.kind === "mutable" && uses(file.actions.slice(j), input) === 1 && Number(prev.output) < 0) {
    slots.delete(input);
    return slot.ref;
  }
  return deps.refs.newMutable(await freeze(input, slots), { signal: ctx.signal });
}

/** Commits a slot's snapshot (once) and returns a reference owned by the slot. */
async function freeze(index: number, slots: Map<number, Slot>): Promise<ImmutableRef | null> {
  const slot = slots.get(index);
  if (!slot) return null;
  if (slot.kind === "immutable") return slot.ref;
  const ref = await slot.ref.commit();
  slots.set(index, { kind: "immutable", ref });
  return ref;
}

async function emptyView(deps: OpDeps, views: ReadonlyMount[], ctx: OpContext): Promise<string> {
  const v = await deps.refs.mountReadonly(null, { signal: ctx.signal });
  views.push(v);
  return v.dir;
}
