// Cache mounts (`RUN --mount=type=cache`): mutable snapshots recorded as `exec.cachemount`, found again by
// their share key (cache id plus the base they start from) in later builds and after restarts.
//
// Sharing, as upstream: `shared` uses one snapshot concurrently; `private` takes a free one or makes a new
// one when all are busy; `locked` waits until the one snapshot is free. A snapshot in use is mounted once on
// a host directory, however many containers bind it (an overlay upper dir must not be mounted twice).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { canceledError, throwIfAborted } from "../util/errors.js";
import { mountAll, unmountAll } from "../snapshot/mount.js";
import type { Snapshotter } from "../snapshot/snapshotter.js";
import type { MetadataDb } from "./metadata-db.js";
import type { ImmutableRef } from "./ref-handles.js";
import type { RecordOwner, RefRecord } from "./ref-record.js";

export type CacheSharing = "shared" | "private" | "locked";

export interface CacheMountRequest {
  /** Mounts with the same key share content: the cache id and the id of the base (`from=`). */
  shareKey: string;
  /** What a new cache starts from (`from=`); null: empty. Only read while creating. */
  parent: ImmutableRef | null;
  sharing: CacheSharing;
  /** What `du` shows, e.g. `cached mount /root/.cache from exec go build`. */
  description?: string;
  signal?: AbortSignal;
}

/** A cache mounted read-write on a host directory until `release` (call it once). */
export interface CacheMountLease {
  /** The record id (`du` shows it). */
  readonly id: string;
  readonly dir: string;
  release(): Promise<void>;
}

interface MountState {
  users: number;
  ready: Promise<string>;
}

export interface CacheMountPoolOptions {
  sn: Snapshotter;
  db: MetadataDb;
  tmpDir: string;
  records: ReadonlyMap<string, RefRecord>;
  owner: RecordOwner;
}

export class CacheMountPool {
  readonly #o: CacheMountPoolOptions;
  readonly #mounted = new Map<string, MountState>();
  readonly #unmounting = new Map<string, Promise<void>>();
  readonly #creating = new Map<string, Promise<RefRecord>>();
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(opts: CacheMountPoolOptions) {
    this.#o = opts;
  }

  /** Finds or creates the cache for `req` per its sharing mode, takes it and mounts it. */
  async acquire(req: CacheMountRequest): Promise<CacheMountLease> {
    const rec = await this.#take(req);
    let dir: string;
    try {
      dir = await this.#mount(rec);
    } catch (err) {
      await this.#drop(rec, false);
      throw err;
    }
    this.#o.db.touch(rec.id);
    let released = false;
    return {
      id: rec.id,
      dir,
      release: async () => {
        if (released) return;
        released = true;
        await this.#drop(rec, true);
      },
    };
  }

  // Returns a record with one handle taken for the caller.
  async #take(req: CacheMountRequest): Promise<RefRecord> {
    for (;;) {
      throwIfAborted(req.signal);
      const found = this.#o.db.byShareKey(req.shareKey).map((id) => this.#o.records.get(id))
        .filter((r): r is RefRecord => r !== undefined && !r.removed);
      if (req.sharing === "private") {
        const free = found.find((r) => r.handles === 0);
        if (free) return hold(free);
        return this.#create(req);
      }
      const rec = found[0];
      if (!rec) {
        const pending = this.#creating.get(req.shareKey);
        if (pending) {
          await pending.catch(() => undefined);
          continue;
        }
        const p = this.#create(req);
        this.#creating.set(req.shareKey, p);
        try {
          return await p;
        } finally {
          this.#creating.delete(req.shareKey);
        }
      }
      if (req.sharing === "locked" && rec.handles > 0) {
        await this.#waitFree(rec.id, req.signal);
        continue;
      }
      return hold(rec);
    }
  }

  async #create(req: CacheMountRequest): Promise<RefRecord> {
    const parent = req.parent ? this.#o.records.get(req.parent.id) : undefined;
    if (parent) parent.handles++;
    const key = `cache-${randomBytes(8).toString("hex")}`;
    try {
      await this.#o.sn.prepare(key, parent?.id, { signal: req.signal });
    } catch (err) {
      if (parent) await this.#o.owner.releaseHandle(parent.id);
      throw err;
    }
    const rec = this.#o.owner.adoptRecord({
      id: key, mutable: true, deps: parent ? [parent] : [], recordType: "exec.cachemount",
      description: req.description, shareKey: req.shareKey,
    });
    return hold(rec);
  }

  async #mount(rec: RefRecord): Promise<string> {
    let state = this.#mounted.get(rec.id);
    if (state) {
      state.users++;
      return state.ready;
    }
    const previous = this.#unmounting.get(rec.id);
    const ready = (async () => {
      await previous;
      const dir = await mkdtemp(join(this.#o.tmpDir, "cache-"));
      try {
        await mountAll(await this.#o.sn.mounts(rec.id), dir);
      } catch (err) {
        await unmountAll(dir).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      return dir;
    })();
    state = { users: 1, ready };
    this.#mounted.set(rec.id, state);
    ready.catch(() => {
      if (this.#mounted.get(rec.id) === state) this.#mounted.delete(rec.id);
    });
    return ready;
  }

  async #drop(rec: RefRecord, mounted: boolean): Promise<void> {
    const state = mounted ? this.#mounted.get(rec.id) : undefined;
    if (state && --state.users === 0) {
      this.#mounted.delete(rec.id);
      const done = (async () => {
        const dir = await state.ready;
        await unmountAll(dir);
        await rm(dir, { recursive: true, force: true });
      })();
      this.#unmounting.set(rec.id, done.catch(() => undefined));
      try {
        await done;
      } finally {
        if (this.#unmounting.get(rec.id)) this.#unmounting.delete(rec.id);
      }
    }
    // The content changed: measure it again next time.
    this.#o.db.setSize(rec.id, -1);
    await this.#o.owner.releaseHandle(rec.id);
    for (const wake of this.#waiters.get(rec.id) ?? []) wake();
  }

  #waitFree(id: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let set = this.#waiters.get(id);
      if (!set) this.#waiters.set(id, (set = new Set()));
      const waiters = set;
      const done = (): void => {
        waiters.delete(wake);
        signal?.removeEventListener("abort", onAbort);
        if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const onAbort = (): void => {
        done();
        reject(canceledError(signal));
      };
      waiters.add(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

function hold(rec: RefRecord): RefRecord {
  rec.handles++;
  return rec;
}
