// Immutable and mutable refs over a Snapshotter, recorded in metadata.db so they outlive the process.
//
// A record is a committed snapshot (or a cache mount's mutable one) plus the records it keeps alive
// (`deps`: its parent, merge or diff inputs). In memory each record counts `handles` (open handles,
// mutables prepared on it, read-only views, cache mount users) and `children` (records that depend on it).
// A record goes when nothing counts it any more and nothing in the database retains it: no saved result,
// no pin (`setNamed`), and it is not a cache mount. Prune removes retained records too (never used ones).
//
// Crash rule: a snapshot is committed before its row is written, and its row is deleted before the
// snapshot is removed; `openCacheManager` (cache-manager.ts) repairs whatever a kill left in between.
// Scratch (the empty filesystem) is `null` everywhere: no snapshot, nothing to release.
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { GantryError } from "../util/errors.js";
import { isLayerChainer } from "../snapshot/layer-chainer.js";
import { mountAll, unmountAll } from "../snapshot/mount.js";
import { isReadonlyMounter } from "../snapshot/readonly-mounter.js";
import { removeDir } from "../snapshot/remove-dir.js";
import { isLayerDiffer, type LayerDir, type Mount, type Snapshotter } from "../snapshot/snapshotter.js";
import { writeTreeDiff } from "../snapshot/tree-diff.js";
import { registerChecksumMemo } from "./content-checksum.js";
import { Handle, SnapshotMutableRef, type HandleOwner, type ImmutableRef, type MutableRef, type RefOptions } from "./ref-handles.js";
import type { MetadataDb, RecordType, RefRow } from "./metadata-db.js";
import { CacheMountPool, type CacheMountLease, type CacheMountRequest } from "./cache-mount-pool.js";
import type { NewRecord, RefRecord } from "./ref-record.js";

export type { ImmutableRef, MutableRef, RefOptions } from "./ref-handles.js";
export type { CacheMountLease, CacheMountRequest, CacheSharing } from "./cache-mount-pool.js";

/** A directory showing a ref's content read-only, until `release` (call it exactly once). */
export interface ReadonlyMount {
  dir: string;
  release(): Promise<void>;
}

/** Metadata `du` shows for a record, and the checksum scope its files share. */
export interface RecordInfo {
  description?: string;
  recordType?: RecordType;
  /** Refs of one scope reuse each other's file checksums when size, times and inode match. */
  checksumScope?: string;
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
  /**
   * The content checksum remembered for `ref` under `query` (`checksumQuery` in content-checksum.ts), or
   * undefined: what a view of the ref would answer at once, without mounting one.
   */
  knownChecksum(ref: ImmutableRef, query: string): string | undefined;
  /** The ref's layers bottom → top (Unimplemented when the snapshotter is no LayerDiffer). */
  layers(ref: ImmutableRef | null): Promise<LayerDir[]>;
  /** A new handle on the ref pinned under `name`, or undefined. Counts as a use of the record. */
  named(name: string): ImmutableRef | undefined;
  /**
   * Pins `ref` under `name` (null unpins), replacing the previous pin, which goes when nothing else keeps
   * it. A pin survives restarts until prune removes the record.
   */
  setNamed(name: string, ref: ImmutableRef | null): Promise<void>;
  /** Sets `du` metadata of the record; `onlyIfEmpty` keeps a description already set. */
  describe(ref: ImmutableRef, info: RecordInfo, onlyIfEmpty?: boolean): void;
  /** A persistent cache directory (`RUN --mount=type=cache`), mounted until the lease is released. */
  acquireCacheMount(req: CacheMountRequest): Promise<CacheMountLease>;
}

/** The admin side (disk usage, prune): kept apart from the accessors builds use. */
export interface RefAdmin {
  /** Every record, with whether it is in use now and whether `remove` would take it. */
  records(): Array<RefRow & { inUse: boolean; removable: boolean }>;
  /** Bytes of the record's own data, measured once for committed records (each time for cache mounts). */
  measure(id: string, opts?: { signal?: AbortSignal }): Promise<number>;
  /**
   * Removes record `id` unless it is in use or another record depends on it; returns the rows removed
   * (it, then records only it kept alive), or [] when it stays.
   */
  remove(id: string): Promise<RefRow[]>;
}

/** Results by cache key, for the solver's result storage (sqlite-result-storage.ts). */
export interface ResultRefs {
  /** The result saved under `key`: undefined when none, null for scratch, else a new handle (a use). */
  loadResult(key: string): ImmutableRef | null | undefined;
  /** Saves `ref` under `key` (it is kept until pruned); a result it replaces goes when nothing keeps it. */
  saveResult(key: string, ref: ImmutableRef | null, info: RecordInfo): Promise<void>;
}

export interface RefManagerOptions {
  snapshotter: Snapshotter;
  db: MetadataDb;
  /** Where `mountReadonly` and cache mounts make their mount points; an empty dir cleared at each start. */
  tmpDir: string;
  /** Rows that survived repair (see cache-manager.ts); default: read them from `db`. */
  rows?: readonly RefRow[];
}

export function createRefManager(opts: RefManagerOptions): RefManager & RefAdmin & ResultRefs {
  return new SnapshotRefManager(opts);
}

export function newName(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString("hex")}`;
}

class SnapshotRefManager implements RefManager, RefAdmin, ResultRefs, HandleOwner {
  readonly #sn: Snapshotter;
  readonly #db: MetadataDb;
  readonly #tmp: string;
  readonly #records = new Map<string, RefRecord>();
  readonly #cacheMounts: CacheMountPool;

  constructor(opts: RefManagerOptions) {
    this.#sn = opts.snapshotter;
    this.#db = opts.db;
    this.#tmp = opts.tmpDir;
    const rows = opts.rows ?? this.#db.refs();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const load = (row: RefRow): RefRecord => {
      const known = this.#records.get(row.id);
      if (known) return known;
      const deps = row.deps.map((d) => byId.get(d)).filter((d): d is RefRow => d !== undefined).map(load);
      for (const d of deps) d.children++;
      const rec: RefRecord = { id: row.id, mutable: row.mutable, deps, scope: row.checksumScope, handles: 0, children: 0, removed: false };
      this.#records.set(row.id, rec);
      return rec;
    };
    for (const row of rows) load(row);
    this.#cacheMounts = new CacheMountPool({ sn: this.#sn, db: this.#db, tmpDir: this.#tmp, records: this.#records, owner: this });
  }

  async newMutable(parent: ImmutableRef | null, opts: RefOptions = {}): Promise<MutableRef> {
    const parentRec = parent ? this.#live(parent.id) : undefined;
    const key = newName("m");
    // Hold the parent before awaiting, so a concurrent release cannot remove it under us.
    if (parentRec) parentRec.handles++;
    try {
      await this.#sn.prepare(key, parentRec?.id, { labels: opts.labels, signal: opts.signal });
    } catch (err) {
      if (parentRec) await this.releaseHandle(parentRec.id);
      throw err;
    }
    return new SnapshotMutableRef(key, this.#sn, {
      commit: (commitOpts) => this.#commitMutable(key, parentRec, { ...opts, ...commitOpts }),
      discard: async () => {
        await this.#sn.remove(key);
        if (parentRec) await this.releaseHandle(parentRec.id);
      },
    });
  }

  get(id: string): ImmutableRef {
    this.addHandle(id);
    return new Handle(id, this);
  }

  async merge(refs: readonly (ImmutableRef | null)[], opts: RefOptions = {}): Promise<ImmutableRef | null> {
    const inputs = refs.filter((r): r is ImmutableRef => r !== null).map((r) => this.#live(r.id));
    if (inputs.length === 0) return null;
    if (inputs.length === 1) return this.get(inputs[0].id);
    const name = newName("merge");
    return this.#createWithDeps(name, inputs, opts, () => this.#sn.merge(name, inputs.map((r) => r.id), opts));
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
        return this.#createWithDeps(name, [this.#live(upper.id)], opts, () => sn.commitChain(name, rest, opts));
      }
    }
    return this.#computeDiff(lower, upper, opts);
  }

  async mountReadonly(ref: ImmutableRef | null, opts: RefOptions = {}): Promise<ReadonlyMount> {
    const dir = await mkdtemp(join(this.#tmp, "ro-"));
    if (ref === null) return { dir, release: () => removeDir(dir) };
    const held = this.get(ref.id);
    const rec = this.#live(ref.id);
    const sn = this.#sn;
    // Our handle keeps the record (so its snapshot) alive while mounted: a snapshotter that can mount a
    // committed snapshot read-only as it is needs no view snapshot made and removed for it.
    const key = isReadonlyMounter(sn) ? undefined : newName("view");
    let mounted = false;
    let unregister = (): void => undefined;
    const release = async (): Promise<void> => {
      unregister();
      if (mounted) await unmountAll(dir);
      await removeDir(dir);
      if (key !== undefined) {
        await sn.remove(key).catch((err: unknown) => {
          // Never created (prepare failed): nothing to remove.
          if (!(err instanceof GantryError && err.code === "NotFound")) throw err;
        });
      }
      await held.release();
    };
    try {
      const mounts = key === undefined ? await this.#readonlyMounts(ref.id) : await sn.view(key, ref.id, { signal: opts.signal });
      await mountAll(mounts, dir);
      mounted = true;
    } catch (err) {
      mounted = true; // a partial mountAll may have mounted something; unmountAll copes with nothing
      await release();
      throw err;
    }
    unregister = registerChecksumMemo(dir, this.#memoOf(rec));
    return { dir, release };
  }

  async #readonlyMounts(id: string): Promise<Mount[]> {
    const sn = this.#sn;
    if (!isReadonlyMounter(sn)) throw new GantryError("Internal", "The snapshotter in use cannot mount a snapshot read-only without a view.");
    return sn.readonlyMounts(id);
  }

  knownChecksum(ref: ImmutableRef, query: string): string | undefined {
    return this.isLive(ref.id) ? this.#db.checksum(ref.id, query) : undefined;
  }

  async layers(ref: ImmutableRef | null): Promise<LayerDir[]> {
    if (ref === null) return [];
    if (!isLayerDiffer(this.#sn)) {
      throw new GantryError("Unimplemented", "The snapshotter in use cannot list layers of a snapshot.");
    }
    return this.#sn.layers(this.#live(ref.id).id);
  }

  named(name: string): ImmutableRef | undefined {
    const id = this.#db.named(name);
    const rec = id === undefined ? undefined : this.#records.get(id);
    if (!rec || rec.removed) return undefined;
    this.#db.touch(rec.id);
    return this.get(rec.id);
  }

  async setNamed(name: string, ref: ImmutableRef | null): Promise<void> {
    if (ref) this.#live(ref.id);
    const before = this.#db.setNamed(name, ref?.id ?? null);
    if (before) await this.#maybeRemoveId(before);
  }

  describe(ref: ImmutableRef, info: RecordInfo, onlyIfEmpty = false): void {
    const rec = this.#live(ref.id);
    this.#db.describe(rec.id, info, onlyIfEmpty);
    if (info.checksumScope) rec.scope = info.checksumScope;
  }

  acquireCacheMount(req: CacheMountRequest): Promise<CacheMountLease> {
    return this.#cacheMounts.acquire(req);
  }

  loadResult(key: string): ImmutableRef | null | undefined {
    const id = this.#db.loadResult(key);
    if (id === undefined || id === null) return id;
    const rec = this.#records.get(id);
    if (!rec || rec.removed) return undefined;
    this.#db.touch(id);
    return this.get(id);
  }

  async saveResult(key: string, ref: ImmutableRef | null, info: RecordInfo): Promise<void> {
    if (ref) {
      this.#live(ref.id);
      if (info.description) this.#db.describe(ref.id, { description: info.description }, true);
    }
    const before = this.#db.saveResult(key, ref?.id ?? null);
    if (before) await this.#maybeRemoveId(before);
  }

  records(): Array<RefRow & { inUse: boolean; removable: boolean }> {
    return this.#db.refs().flatMap((row) => {
      const rec = this.#records.get(row.id);
      if (!rec || rec.removed) return [];
      return [{ ...row, inUse: rec.handles > 0, removable: rec.handles === 0 && rec.children === 0 }];
    });
  }

  async measure(id: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const row = this.#db.ref(id);
    if (!row) throw new GantryError("NotFound", `Cache record ${id} does not exist.`);
    if (row.size >= 0 && !(row.mutable && (this.#records.get(id)?.handles ?? 0) > 0)) return row.size;
    void opts;
    const { size } = await this.#sn.usage(id);
    // A cache mount in use keeps changing: measure it again next time.
    if (!(row.mutable && (this.#records.get(id)?.handles ?? 0) > 0)) this.#db.setSize(id, size);
    return size;
  }

  async remove(id: string): Promise<RefRow[]> {
    const rec = this.#records.get(id);
    if (!rec || rec.removed || rec.handles > 0 || rec.children > 0) return [];
    const removed: RefRow[] = [];
    await this.#removeRecord(rec, removed);
    return removed;
  }

  // HandleOwner
  addHandle(id: string): void {
    this.#live(id).handles++;
  }

  async releaseHandle(id: string): Promise<void> {
    const rec = this.#records.get(id);
    if (!rec) return;
    rec.handles--;
    await this.#maybeRemove(rec);
  }

  isLive(id: string): boolean {
    const rec = this.#records.get(id);
    return rec !== undefined && !rec.removed;
  }

  /** Inserts the record of a snapshot that now exists; the caller's hold on each dep becomes the record's. */
  adoptRecord(row: NewRecord): RefRecord {
    this.#db.insertRef({ ...row, deps: row.deps.map((d) => d.id) });
    const rec: RefRecord = { id: row.id, mutable: row.mutable, deps: row.deps, scope: row.checksumScope ?? null, handles: 0, children: 0, removed: false };
    for (const d of row.deps) {
      d.children++;
      d.handles--;
    }
    this.#records.set(row.id, rec);
    return rec;
  }

  async #commitMutable(key: string, parentRec: RefRecord | undefined, opts: RefOptions): Promise<ImmutableRef> {
    const name = newName("ref");
    await this.#sn.commit(name, key, { labels: opts.labels, signal: opts.signal });
    // The parent's hold passes from the mutable ref to the new record.
    const rec = this.adoptRecord({ id: name, mutable: false, deps: parentRec ? [parentRec] : [], description: opts.description, recordType: opts.recordType });
    rec.handles++;
    return new Handle(name, this);
  }

  async #createWithDeps(name: string, deps: RefRecord[], opts: RefOptions, create: () => Promise<void>): Promise<ImmutableRef> {
    for (const d of deps) d.handles++;
    try {
      await create();
    } catch (err) {
      for (const d of deps) await this.releaseHandle(d.id);
      throw err;
    }
    const rec = this.adoptRecord({ id: name, mutable: false, deps, description: opts.description, recordType: opts.recordType });
    rec.handles++;
    return new Handle(name, this);
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
    const dir = await mkdtemp(join(this.#tmp, "rw-"));
    try {
      await mountAll(mounts, dir);
      try {
        await fn(dir);
      } finally {
        await unmountAll(dir);
      }
    } finally {
      await removeDir(dir);
    }
  }

  #memoOf(rec: RefRecord): Parameters<typeof registerChecksumMemo>[1] {
    const db = this.#db;
    const scope = rec.scope;
    let sums: Map<string, { sig: string; digest: string }> | undefined;
    return {
      get: (query) => (this.isLive(rec.id) ? db.checksum(rec.id, query) : undefined),
      set: (query, digest) => {
        if (this.isLive(rec.id)) db.setChecksum(rec.id, query, digest);
      },
      files: scope === null ? undefined : {
        get: (path) => (sums ??= db.fileSums(scope)).get(path),
        setMany: (rows) => db.setFileSums(scope, rows),
      },
    };
  }

  #live(id: string): RefRecord {
    const rec = this.#records.get(id);
    if (!rec || rec.removed) throw new GantryError("NotFound", `Ref ${id} does not exist (or was released).`);
    return rec;
  }

  async #maybeRemoveId(id: string): Promise<void> {
    const rec = this.#records.get(id);
    if (rec) await this.#maybeRemove(rec);
  }

  async #maybeRemove(rec: RefRecord, removed?: RefRow[]): Promise<void> {
    if (rec.handles > 0 || rec.children > 0 || rec.removed || rec.mutable || this.#db.isRetained(rec.id)) return;
    await this.#removeRecord(rec, removed);
  }

  // Deletes the row (with results, pins and checksums pointing at it) before removing the snapshot, all in
  // the same tick as the checks above, so no load can pick the record up in between.
  async #removeRecord(rec: RefRecord, removed?: RefRow[]): Promise<void> {
    const row = removed ? this.#db.ref(rec.id) : undefined;
    rec.removed = true;
    this.#records.delete(rec.id);
    this.#db.deleteRefs([rec.id]);
    if (row) removed?.push(row);
    try {
      await this.#sn.remove(rec.id);
    } catch (err) {
      // Still there (something outside this manager depends on it): the next start removes it.
      if (!(err instanceof GantryError && err.code === "NotFound")) throw err;
    }
    for (const d of rec.deps) {
      d.children--;
      await this.#maybeRemove(d, removed);
    }
  }
}
