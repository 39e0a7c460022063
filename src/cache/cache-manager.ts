// Opens the persistent cache of a state root: metadata.db, crash repair against the snapshotter, and the
// ref manager over what survived.
//
// Repair (the other half of the crash rule in ref-manager.ts): a row whose snapshot is gone (or of the
// wrong kind) is dropped, with the rows that depend on it; rows nothing retains any more (no result, pin or
// cache mount reaches them) are dropped; then every snapshot no surviving row names is removed: committed
// but never recorded, writable snapshots of killed builds, views. What remains is consistent.
import { GantryError } from "../util/errors.js";
import type { SnapshotKind, Snapshotter } from "../snapshot/snapshotter.js";
import { MetadataDb, type RefRow } from "./metadata-db.js";
import { createRefManager, type RefAdmin, type RefManager, type ResultRefs } from "./ref-manager.js";

export interface CacheManager {
  readonly refs: RefManager;
  readonly admin: RefAdmin;
  readonly results: ResultRefs;
  readonly db: MetadataDb;
  /** Closes the database (after the users of `refs` have let go). */
  close(): void;
}

export interface CacheManagerOptions {
  /** `<root>/metadata.db`, or ":memory:" for tests. */
  dbPath: string;
  snapshotter: Snapshotter;
  /** Mount points for views and cache mounts: an empty directory. */
  tmpDir: string;
}

/** Opens the database, repairs it against the snapshotter and returns the managers over it. */
export async function openCacheManager(opts: CacheManagerOptions): Promise<CacheManager> {
  const db = new MetadataDb(opts.dbPath);
  try {
    const rows = await repairCache(db, opts.snapshotter);
    const mgr = createRefManager({ snapshotter: opts.snapshotter, db, tmpDir: opts.tmpDir, rows });
    return { refs: mgr, admin: mgr, results: mgr, db, close: () => db.close() };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Makes rows and snapshots agree (see the header); returns the surviving rows. */
export async function repairCache(db: MetadataDb, sn: Snapshotter): Promise<RefRow[]> {
  const snaps = new Map<string, SnapshotKind>();
  await sn.walk((info) => void snaps.set(info.name, info.kind));
  const rows = db.refs();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const bad = new Set(rows.filter((r) => snaps.get(r.id) !== (r.mutable ? "active" : "committed")).map((r) => r.id));
  for (let changed = true; changed;) {
    changed = false;
    for (const r of rows) {
      if (!bad.has(r.id) && r.deps.some((d) => bad.has(d) || !byId.has(d))) {
        bad.add(r.id);
        changed = true;
      }
    }
  }
  const keep = new Set<string>();
  const visit = (id: string): void => {
    const row = byId.get(id);
    if (!row || keep.has(id) || bad.has(id)) return;
    keep.add(id);
    for (const d of row.deps) visit(d);
  };
  for (const id of db.retainedIds()) visit(id);
  const drop = rows.filter((r) => !keep.has(r.id)).map((r) => r.id);
  if (drop.length) db.deleteRefs(drop);
  await removeUnrecorded(sn, [...snaps.keys()].filter((n) => !keep.has(n)));
  return rows.filter((r) => keep.has(r.id));
}

// Children block their parents' removal: retry the blocked ones while each round removes something.
async function removeUnrecorded(sn: Snapshotter, names: string[]): Promise<void> {
  let left = names;
  while (left.length > 0) {
    const blocked: string[] = [];
    for (const name of left) {
      try {
        await sn.remove(name);
      } catch (err) {
        if (err instanceof GantryError && err.code === "FailedPrecondition") blocked.push(name);
        else if (!(err instanceof GantryError && err.code === "NotFound")) throw err;
      }
    }
    if (blocked.length === left.length) return; // kept by a recorded snapshot: cannot happen, leave them
    left = blocked;
  }
}
