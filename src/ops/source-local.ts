// `local://NAME` sources: the client's directory, copied through the session into a snapshot. It always
// runs (the client's files may have changed); dependants stay cached through content checksums. When the
// session has a shared key, the copy is kept (pinned, record type source.local) and the next build syncs
// into a snapshot on top of it, so unchanged files are neither copied nor hashed again.
// Each head also gets an index of what the sync left in it (session/local-tree-index.ts), kept beside its
// own layer so that removing the snapshot removes it; the next sync compares the client's files with that
// index instead of stat-ing the copy.
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { SourceOp } from "../gen/pb/ops_pb.js";
import type { ImmutableRef } from "../cache/ref-manager.js";
import { Attrs } from "../llb/keys.js";
import type { LocalSyncOptions, LocalSyncStats } from "../session/build-session.js";
import { readLocalTreeIndex, writeLocalTreeIndex, type LocalTreeIndex } from "../session/local-tree-index.js";
import { sha256 } from "../util/digest.js";
import type { CacheMap, Op, OpContext } from "../solver/types.js";
import { GantryError } from "../util/errors.js";
import type { BuildContext } from "./build-context.js";
import type { OpDeps } from "./op-deps.js";
import { soleLayerDir } from "./sole-layer.js";
import { fillSnapshot, fillSnapshotOnDemand } from "./with-mounted.js";
import { WorkerRef } from "./worker-ref.js";

function patternsAttr(src: SourceOp, key: string): string[] | undefined {
  const raw = src.attrs[key];
  if (raw === undefined || raw === "") return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  } catch {
    // fall through to the error below
  }
  throw new GantryError("InvalidArgument", `Local source ${src.identifier}: attribute ${key} must be a JSON array of strings.`);
}

/** A local source chain longer than this starts over from an empty snapshot (one full copy). */
const FLATTEN_AFTER = 16;

export function createLocalSourceOp(src: SourceOp, build: BuildContext, deps: OpDeps): Op<WorkerRef> {
  const name = src.identifier.slice("local://".length);
  const include = patternsAttr(src, Attrs.localIncludePatterns);
  const exclude = patternsAttr(src, Attrs.localExcludePatterns);
  const followPaths = patternsAttr(src, Attrs.localFollowPaths);
  const sync = (dir: string, signal: AbortSignal, prior: Prior): Promise<LocalSyncStats> =>
    build.session.syncLocal(name, dir, { include, exclude, followPaths, signal, ...prior });
  return {
    alwaysRun: true,
    async cacheMap(): Promise<CacheMap<WorkerRef>> {
      // Never matches an earlier build: the directory's content decides, through dependants' checksums.
      return { digest: `random:${randomBytes(16).toString("hex")}`, deps: [] };
    },
    async exec(ctx: OpContext): Promise<WorkerRef[]> {
      const status = `transferring ${name}:`;
      ctx.progress.status(status, 0, 0);
      const description = `local source for ${name}`;
      // A session without a shared key asks for a fresh copy each time (it cannot sync into an old one).
      const ref = build.session.sharedKey === ""
        ? await freshCopy(deps, description, sync, ctx)
        : await syncIntoHead(deps, headPin(name, src.attrs[Attrs.localSharedKeyHint] ?? "", build.session.sharedKey), description, sync, ctx);
      ctx.progress.statusDone(status, ref.bytes, 0);
      return [new WorkerRef(ref.ref)];
    },
  };
}

/** What the sync may read instead of its destination to know what it holds before. */
type Prior = Pick<LocalSyncOptions, "previous" | "previousIndex" | "openDest">;
type Sync = (dir: string, signal: AbortSignal, prior: Prior) => Promise<LocalSyncStats>;

/** The index file's name in a snapshot's own directory (beside its layer). */
const INDEX_FILE = "local-tree-index";

interface Synced {
  ref: ImmutableRef;
  bytes: number;
}

/** The pin of the latest copy of one client directory (local name, hint and client key), as upstream keys it. */
function headPin(name: string, hint: string, sessionKey: string): string {
  return `local:${sha256(`${name}:${hint}:${sessionKey}`)}`;
}

/**
 * Syncs the client's directory into a new snapshot on `parent` (which has no index: the sync compares with
 * its content) and commits it as a `source.local` record.
 */
async function syncOnto(deps: OpDeps, parent: ImmutableRef | null, description: string, sync: Sync, ctx: OpContext):
  Promise<{ ref: ImmutableRef; stats: LocalSyncStats }> {
  // The first copy of a context never holds whiteouts, so a one-layer head reads as its mount does.
  const previous = await soleLayerDir(deps, parent);
  const { ref, value } = await fillSnapshot(deps.refs, deps.tmpDir, {
    parent, signal: ctx.signal, commit: { recordType: "source.local", description },
    fill: (dir) => sync(dir, ctx.signal, previous ? { previous } : {}),
  });
  return { ref, stats: value };
}

/**
 * Where `ref`'s index lives: in the directory of its top layer (`snapshots/<id>/`, beside `fs`), which the
 * snapshotter deletes with the snapshot. Overlay only: there a new snapshot's mount shows exactly its
 * parent's content, which the index describes.
 */
async function indexFile(deps: OpDeps, ref: ImmutableRef): Promise<string | undefined> {
  if (deps.snapshotterKind !== "overlay") return undefined;
  const top = (await deps.refs.layers(ref)).at(-1);
  return top ? join(dirname(top.path), INDEX_FILE) : undefined;
}

/** The index of `ref`'s content, when a whole one written for this very ref is there. */
async function loadIndex(deps: OpDeps, ref: ImmutableRef, signal: AbortSignal): Promise<LocalTreeIndex | undefined> {
  const file = await indexFile(deps, ref);
  return file === undefined ? undefined : readLocalTreeIndex(file, ref.id, { signal });
}

/**
 * Records `index` as the description of committed `ref`. Best effort: without it the next sync compares
 * with the copy itself, so a failure only costs time.
 */
async function saveIndex(deps: OpDeps, ref: ImmutableRef, index: LocalTreeIndex | undefined): Promise<void> {
  if (index === undefined) return;
  try {
    const file = await indexFile(deps, ref);
    if (file !== undefined) await writeLocalTreeIndex(file, index, ref.id);
  } catch {
    // see above: the index is only a shortcut
  }
}

async function freshCopy(deps: OpDeps, description: string, sync: Sync, ctx: OpContext): Promise<Synced> {
  const { ref, stats } = await syncOnto(deps, null, description, sync, ctx);
  return { ref, bytes: stats.bytes };
}

/**
 * Syncs into a snapshot on top of the last copy (the session moves only what changed). No change: the
 * last copy itself is the result, so its remembered checksums answer dependants at once. Otherwise the
 * new snapshot becomes the head; its unchanged files keep their inodes and times, so their checksums
 * are reused too (checksum scope = the pin).
 */
async function syncIntoHead(deps: OpDeps, pin: string, description: string, sync: Sync, ctx: OpContext): Promise<Synced> {
  const head = deps.refs.named(pin);
  try {
    const base = head && (await deps.refs.layers(head)).length < FLATTEN_AFTER ? head : null;
    const previousIndex = base ? await loadIndex(deps, base, ctx.signal) : undefined;
    if (base && previousIndex) return await syncIndexed(deps, pin, base, previousIndex, description, sync, ctx);
    const { ref: next, stats } = await syncOnto(deps, base, description, sync, ctx);
    if (head && base === head && await hasEmptyTopLayer(deps, next)) {
      await next.release();
      // Nothing was written, so what the sync saw in dest is exactly the head: index it (it had none).
      await saveIndex(deps, head, stats.index);
      return { ref: head.clone(), bytes: stats.bytes };
    }
    return await advanceHead(deps, pin, next, stats);
  } finally {
    await head?.release();
  }
}

/**
 * The sync into an indexed head: the snapshot on it is made and mounted only when the sync has something
 * to write or delete. When it never needs one, the head (and its index) stays as it is.
 */
async function syncIndexed(deps: OpDeps, pin: string, head: ImmutableRef, previousIndex: LocalTreeIndex, description: string,
  sync: Sync, ctx: OpContext): Promise<Synced> {
  const { ref: next, value: stats } = await fillSnapshotOnDemand(deps.refs, deps.tmpDir, {
    parent: head, signal: ctx.signal, commit: { recordType: "source.local", description },
    fill: (dir, openDest) => sync(dir, ctx.signal, { previousIndex, openDest }),
  });
  if (next === null) return { ref: head.clone(), bytes: stats.bytes };
  // Opened only to look (a hard link checked in place): nothing changed after all.
  if (await hasEmptyTopLayer(deps, next)) {
    await next.release();
    return { ref: head.clone(), bytes: stats.bytes };
  }
  return advanceHead(deps, pin, next, stats);
}

/** Makes committed `next` the head of `pin`, indexed from the moment it is the head. */
async function advanceHead(deps: OpDeps, pin: string, next: ImmutableRef, stats: LocalSyncStats): Promise<Synced> {
  try {
    await saveIndex(deps, next, stats.index);
    deps.refs.describe(next, { checksumScope: pin });
    await deps.refs.setNamed(pin, next);
  } catch (err) {
    await next.release();
    throw err;
  }
  return { ref: next, bytes: stats.bytes };
}

async function hasEmptyTopLayer(deps: OpDeps, ref: ImmutableRef): Promise<boolean> {
  const top = (await deps.refs.layers(ref)).at(-1);
  return top !== undefined && (await readdir(top.path)).length === 0;
}
