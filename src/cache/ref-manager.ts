// Immutable and mutable refs over a Snapshotter: the reference counting that decides when a snapshot
// may go. In memory for now; each record holds only ids (its snapshot name and the names it depends on),
// so a later persistent store can save and reload the same shape.
//
// Scratch (the empty filesystem) is `null` everywhere: no snapshot, nothing to release, as BuildKit's
// nil ref. A snapshot stays while a handle references it or while another live snapshot depends on it
// (its child, a merge or diff built on its layers, a view from `mountReadonly`); the last release removes
// it, and then, in cascade, the snapshots it kept alive.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GantryError } from "../util/errors.js";
import { isLayerChainer } from "../snapshot/layer-chainer.js";
import { mountAll, unmountAll } from "../snapshot/mount.js";
import { isLayerDiffer, type LayerDir, type Mount, type Snapshotter } from "../snapshot/snapshotter.js";
import { writeTreeDiff } from "../snapshot/tree-diff.js";

/**
 * A counted handle on a committed snapshot. `id` is the snapshot's name. It has the shape of the solver's
 * `Result` (solver/types.ts), which cache/ may not import: it satisfies it structurally (see the test).
 */
export interface ImmutableRef {
  readonly id: string;
  /** A new, independently released handle on the same snapshot. */
  clone(): ImmutableRef;
  /** Drops this handle (a second call is a no-op); may remove the snapshot and ones it kept alive. */
  release(): Promise<void>;
}

/** A writable snapshot being built. Ends with exactly one of `commit` or `release`. */
export interface MutableRef {
  /** The active snapshot key. */
  readonly id: string;
  /** Mounts to write through (FailedPrecondition after commit or release). */
  mounts(): Promise<Mount[]>;
  /** Turns the content into an immutable ref; the mutable ref is used up (unmount it first). */
  commit(opts?: RefOptions): Promise<ImmutableRef>;
  /** Discards the content. */
  release(): Promise<void>;
}

export interface RefOptions {
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

/** A directory showing a ref's content read-only, until `release` (call it exactly once). */
export interface ReadonlyMount {
  dir: string;
  release(): Promise<void>;
}

export interface RefManager {
  /** A new writable snapshot on top of `parent` (null: empty). The manager keeps `parent` alive meanwhile. */
  newMutable(parent: ImmutableRef | null, opts?: RefOptions): Promise<MutableRef>;
  /**
   * A new handle on live snapshot `id` (also one kept only by its dependents); NotFound when it is
   * unknown or already removed.
   */
  get(id: string): ImmutableRef;
  /** `refs` stacked in order (later wins); scratch entries are skipped, all scratch gives scratch. */
  merge(refs: readonly (ImmutableRef | null)[], opts?: RefOptions): Promise<ImmutableRef | null>;
  /**
   * The changes from `lower` to `upper` as a ref whose layers hold them (deletions as whiteouts, hidden
   * when mounted alone). Without copying when upper's layer chain extends lower's; else a computed diff.
   */
  diff(lower: ImmutableRef | null, upper: ImmutableRef | null, opts?: RefOptions): Promise<ImmutableRef | null>;
  /** Mounts a read-only view of `ref` on a temporary directory (scratch: an empty directory). */
  mountReadonly(ref: ImmutableRef | null, opts?: RefOptions): Promise<ReadonlyMount>;
  /** The ref's layers bottom → top (Unimplemented when the snapshotter is no LayerDiffer). */
  layers(ref: ImmutableRef | null): Promise<LayerDir[]>;
}

export interface RefManagerOptions {
  snapshotter: Snapshotter;
  /** Where `mountReadonly` makes its mount points; default the OS temp dir. */
  tmpDir?: string;
}

// One committed snapshot the manager tracks. `deps` are the records it keeps alive.
interface RefRecord {
  readonly id: string;
  readonly deps: readonly RefRecord[];
  handles: number;
  dependents: number;
  removed: boolean;
}

export function createRefManager(opts: RefManagerOptions): RefManager {
  return new SnapshotRefManager(opts.snapshotter, opts.tmpDir ?? tmpdir());
}

function newName(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString("hex")}`;
}

class SnapshotRefManager implements RefManager {
  readonly #sn: Snapshotter;
  readonly #tmp: string;
  readonly #records = new Map<string, RefRecord>();

  constructor(sn: Snapshotter, tmp: string) {
    this.#sn = sn;
    this.#tmp = tmp;
  }

  async newMutable(parent: ImmutableRef | null, opts: RefOptions = {}): Promise<MutableRef> {
    const parentRec = parent ? this.#live(parent.id) : undefined;
    const key = newName("m");
    // Hold the parent before awaiting, so a concurrent release cannot remove it under us.
    if (parentRec) parentRec.dependents++;
    try {
      await this.#sn.prepare(key, parentRec?.id, { labels: opts.labels, signal: opts.signal });
    } catch (err) {
      if (parentRec) await this.#dropDependent(parentRec);
      throw err;
    }
    return new SnapshotMutableRef(key, this.#sn, {
      commit: (commitOpts) => this.#commitMutable(key, parentRec, commitOpts),
      discard: async () => {
        await this.#sn.remove(key);
        if (parentRec) await this.#dropDependent(parentRec);
      },
    });
  }

  get(id: string): ImmutableRef {
    const rec = this.#live(id);
    rec.handles++;
    return new Handle(rec, this);
  }

  async merge(refs: readonly (ImmutableRef | null)[], opts: RefOptions = {}): Promise<ImmutableRef | null> {
    const inputs = refs.filter((r): r is ImmutableRef => r !== null).map((r) => this.#live(r.id));
    if (inputs.length === 0) return null;
    if (inputs.length === 1) return this.get(inputs[0].id);
    const name = newName("merge");
    return this.#createWithDeps(name, inputs, () => this.#sn.merge(name, inputs.map((r) => r.id), opts));
  }

  async diff(lower: ImmutableRef | null, upper: ImmutableRef | null, opts: RefOptions = {}): Promise<ImmutableRef | null> {
    if (lower === null && upper === null) return null;
    if (lower === null) return this.get(upper!.id);
    if (upper !== null && lower.id === upper.id) return null;
    const sn = this.#sn;
    if (upper !== null && isLayerChainer(sn)) {
      const [lc, uc] = await Promise.all([sn.chain(lower.id), sn.chain(upper.id)]);
      if (lc.length <= uc.length && lc.every((id, i) => uc[i] === id)) {
        const rest = uc.slice(lc.length);
        if (rest.length === 0) return null;
        const name = newName("diff");
        return this.#createWithDeps(name, [this.#live(upper.id)], () => sn.commitChain(name, rest, opts));
      }
    }
    return this.#computeDiff(lower, upper, opts);
  }

  async mountReadonly(ref: ImmutableRef | null, opts: RefOptions = {}): Promise<ReadonlyMount> {
    const dir = await mkdtemp(join(this.#tmp, "gantry-ro-"));
    if (ref === null) return { dir, release: () => rm(dir, { recursive: true, force: true }) };
    const held = this.get(ref.id);
    const key = newName("view");
    let mounted = false;
    const release = async (): Promise<void> => {
      if (mounted) await unmountAll(dir);
      await rm(dir, { recursive: true, force: true });
      await this.#sn.remove(key).catch((err: unknown) => {
        // Never created (prepare failed): nothing to remove.
        if (!(err instanceof GantryError && err.code === "NotFound")) throw err;
      });
      await held.release();
    };
    try {
      const mounts = await this.#sn.view(key, ref.id, { signal: opts.signal });
      await mountAll(mounts, dir);
      mounted = true;
    } catch (err) {
      mounted = true; // a partial mountAll may have mounted something; unmountAll copes with nothing
      await release();
      throw err;
    }
    return { dir, release };
  }

  async layers(ref: ImmutableRef | null): Promise<LayerDir[]> {
    if (ref === null) return [];
    if (!isLayerDiffer(this.#sn)) {
      throw new GantryError("Unimplemented", "The snapshotter in use cannot list layers of a snapshot.");
    }
    return this.#sn.layers(this.#live(ref.id).id);
  }

  /** Called by a handle: one reference fewer. */
  async releaseHandle(rec: RefRecord): Promise<void> {
    rec.handles--;
    await this.#maybeRemove(rec);
  }

  /** Called by a handle's clone. */
  addHandle(rec: RefRecord): ImmutableRef {
    if (rec.removed) throw new GantryError("FailedPrecondition", `Cannot clone ref ${rec.id}: it was already removed.`);
    rec.handles++;
    return new Handle(rec, this);
  }

  async #commitMutable(key: string, parentRec: RefRecord | undefined, opts: RefOptions = {}): Promise<ImmutableRef> {
    const name = newName("ref");
    await this.#sn.commit(name, key, { labels: opts.labels, signal: opts.signal });
    // The parent's hold passes from the mutable ref to the new record.
    const rec: RefRecord = { id: name, deps: parentRec ? [parentRec] : [], handles: 1, dependents: 0, removed: false };
    this.#records.set(name, rec);
    return new Handle(rec, this);
  }

  async #createWithDeps(name: string, deps: RefRecord[], create: () => Promise<void>): Promise<ImmutableRef> {
    for (const d of deps) d.dependents++;
    try {
      await create();
    } catch (err) {
      for (const d of deps) await this.#dropDependent(d);
      throw err;
    }
    const rec: RefRecord = { id: name, deps, handles: 1, dependents: 0, removed: false };
    this.#records.set(name, rec);
    return new Handle(rec, this);
  }

  // A diff by walking both trees into a new parentless snapshot: changed entries plus whiteouts.
  async #computeDiff(lower: ImmutableRef, upper: ImmutableRef | null, opts: RefOptions): Promise<ImmutableRef | null> {
    const lowerMount = await this.mountReadonly(lower, opts);
    try {
      const upperMount = await this.mountReadonly(upper, opts);
      try {
        const out = await this.newMutable(null, opts);
        try {
          await this.#withMounted(await out.mounts(), (dir) => writeTreeDiff(lowerMount.dir, upperMount.dir, dir, opts));
        } catch (err) {
          await out.release();
          throw err;
        }
        return await out.commit(opts);
      } finally {
        await upperMount.release();
      }
    } finally {
      await lowerMount.release();
    }
  }

  async #withMounted(mounts: Mount[], fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(this.#tmp, "gantry-rw-"));
    try {
      await mountAll(mounts, dir);
      try {
        await fn(dir);
      } finally {
        await unmountAll(dir);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  #live(id: string): RefRecord {
    const rec = this.#records.get(id);
    if (!rec || rec.removed) throw new GantryError("NotFound", `Ref ${id} does not exist (or was released).`);
    return rec;
  }

  async #dropDependent(rec: RefRecord): Promise<void> {
    rec.dependents--;
    await this.#maybeRemove(rec);
  }

  async #maybeRemove(rec: RefRecord): Promise<void> {
    if (rec.handles > 0 || rec.dependents > 0 || rec.removed) return;
    rec.removed = true;
    this.#records.delete(rec.id);
    try {
      await this.#sn.remove(rec.id);
    } catch (err) {
      // Still there (something outside this manager depends on it): keep tracking it.
      rec.removed = false;
      this.#records.set(rec.id, rec);
      throw err;
    }
    for (const d of rec.deps) await this.#dropDependent(d);
  }
}

/** One counted handle; each clone is a new handle with its own once-only release. */
class Handle implements ImmutableRef {
  readonly #rec: RefRecord;
  readonly #mgr: SnapshotRefManager;
  #released = false;

  constructor(rec: RefRecord, mgr: SnapshotRefManager) {
    this.#rec = rec;
    this.#mgr = mgr;
  }

  get id(): string {
    return this.#rec.id;
  }

  clone(): ImmutableRef {
    if (this.#released) throw new GantryError("FailedPrecondition", `Cannot clone ref ${this.id}: this handle was released.`);
    return this.#mgr.addHandle(this.#rec);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#mgr.releaseHandle(this.#rec);
  }
}

interface MutableOps {
  commit(opts?: RefOptions): Promise<ImmutableRef>;
  discard(): Promise<void>;
}

class SnapshotMutableRef implements MutableRef {
  readonly id: string;
  readonly #sn: Snapshotter;
  readonly #ops: MutableOps;
  #done = false;

  constructor(id: string, sn: Snapshotter, ops: MutableOps) {
    this.id = id;
    this.#sn = sn;
    this.#ops = ops;
  }

  async mounts(): Promise<Mount[]> {
    this.#check("mount");
    return this.#sn.mounts(this.id);
  }

  async commit(opts?: RefOptions): Promise<ImmutableRef> {
    this.#check("commit");
    this.#done = true;
    try {
      return await this.#ops.commit(opts);
    } catch (err) {
      this.#done = false;
      throw err;
    }
  }

  async release(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#ops.discard();
  }

  #check(what: string): void {
    if (this.#done) throw new GantryError("FailedPrecondition", `Cannot ${what} mutable ref ${this.id}: it was committed or released.`);
  }
}
