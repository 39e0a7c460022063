// The on-disk bookkeeping both snapshotters share: `root/snapshots/<id>/record.json` per snapshot.
//
// Crash safety: a snapshot exists exactly when its record exists. Creation makes the directory first and
// writes the record (atomically) last; removal deletes the record first and the directory after. So a
// crash leaves at worst a directory without a record, which `open` deletes. Commit rewrites the record
// atomically, so a snapshot is either still the active `key` or already the committed `name`.
// Only committed records are synced to disk: an active or view snapshot that a power cut loses (or leaves
// with a torn record) is a leftover that `open` deletes anyway, so it is written without an fsync.
import { mkdir, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { atomicWrite } from "../util/atomic-write.js";
import { errnoOf, GantryError } from "../util/errors.js";
import type { SnapshotInfo, SnapshotKind } from "./snapshotter.js";

export interface SnapshotRecord {
  /** Short numeric directory id: `snapshots/<id>`. */
  readonly id: string;
  /** The key (active, view) or name (committed). */
  readonly name: string;
  readonly kind: SnapshotKind;
  readonly parent?: string;
  /**
   * Layer ids, bottom → top. Committed: the layers that make up its content (ending with `id` when it
   * has a layer of its own; a merge has none). Active or view: the parent's layers (the lower dirs).
   */
  readonly chain: readonly string[];
  readonly created: string;
  readonly labels: Readonly<Record<string, string>>;
}

export type NewRecord = Omit<SnapshotRecord, "id" | "created">;

const RECORD_FILE = "record.json";

/** In-memory index of the records, kept in step with the files. One instance per root. */
export class SnapshotRecords {
  readonly #dir: string;
  readonly #byName = new Map<string, SnapshotRecord>();
  readonly #byId = new Map<string, SnapshotRecord>();
  readonly #reserved = new Set<string>();
  #nextId = 1;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Loads the records under `root/snapshots` and deletes directories that have none (crash leftovers). */
  static async open(root: string): Promise<SnapshotRecords> {
    const dir = join(root, "snapshots");
    await mkdir(dir, { recursive: true });
    const recs = new SnapshotRecords(dir);
    for (const name of await readdir(dir)) {
      const rec = /^[0-9]+$/.test(name) ? await readRecord(join(dir, name, RECORD_FILE)) : undefined;
      if (!rec || rec.id !== name) {
        await rm(join(dir, name), { recursive: true, force: true });
        continue;
      }
      recs.#put(rec);
      recs.#nextId = Math.max(recs.#nextId, Number(name) + 1);
    }
    return recs;
  }

  /** The directory of snapshot `id`. */
  dirOf(id: string): string {
    return join(this.#dir, id);
  }

  /** The record of `name`; NotFound when there is none. */
  get(name: string): SnapshotRecord {
    const rec = this.#byName.get(name);
    if (!rec) throw new GantryError("NotFound", `Snapshot "${name}" does not exist.`);
    return rec;
  }

  /** The record of committed snapshot `name`; NotFound, or FailedPrecondition when it is not committed. */
  committed(name: string): SnapshotRecord {
    const rec = this.get(name);
    if (rec.kind !== "committed") {
      throw new GantryError("FailedPrecondition", `Snapshot "${name}" is ${rec.kind}, not committed.`);
    }
    return rec;
  }

  /** The layers of committed `parent` (none without a parent). */
  parentChain(parent: string | undefined): string[] {
    return parent ? [...this.committed(parent).chain] : [];
  }

  /** True when `id` is the own layer of a committed snapshot (so it may appear in a chain). */
  isLayer(id: string): boolean {
    const r = this.#byId.get(id);
    return r !== undefined && r.kind === "committed" && r.chain.at(-1) === id;
  }

  all(): SnapshotRecord[] {
    return [...this.#byName.values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  /**
   * Creates a snapshot: reserves the name (AlreadyExists if taken), makes its directory, lets `fill`
   * populate it, then writes the record. On failure nothing remains.
   */
  async create(init: NewRecord, fill: (dir: string, id: string) => Promise<void>): Promise<SnapshotRecord> {
    this.#reserve(init.name);
    const id = String(this.#nextId++);
    const dir = this.dirOf(id);
    try {
      await mkdir(dir);
      await fill(dir, id);
      const rec: SnapshotRecord = { ...init, chain: [...init.chain], id, created: new Date().toISOString() };
      if (rec.kind === "committed") await atomicWrite(join(dir, RECORD_FILE), JSON.stringify(rec));
      else await writeFile(join(dir, RECORD_FILE), JSON.stringify(rec), { flag: "wx" });
      this.#put(rec);
      return rec;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    } finally {
      this.#reserved.delete(init.name);
    }
  }

  /**
   * Turns active `key` into committed `name` (AlreadyExists, NotFound, FailedPrecondition for a view or
   * a committed key). `before` runs first (e.g. computing the diff); the record rewrite is the commit point.
   */
  async commit(key: string, name: string, before: (rec: SnapshotRecord) => Promise<void>,
    labels?: Record<string, string>): Promise<SnapshotRecord> {
    const rec = this.get(key);
    if (rec.kind !== "active") {
      throw new GantryError("FailedPrecondition", `Cannot commit snapshot "${key}": it is ${rec.kind}, not active.`);
    }
    this.#reserve(name);
    try {
      await before(rec);
      const next: SnapshotRecord = { ...rec, name, kind: "committed", chain: [...rec.chain, rec.id],
        created: new Date().toISOString(), labels: { ...rec.labels, ...labels } };
      await atomicWrite(join(this.dirOf(rec.id), RECORD_FILE), JSON.stringify(next));
      this.#byName.delete(key);
      this.#put(next);
      return next;
    } finally {
      this.#reserved.delete(name);
    }
  }

  /**
   * Removes `name`: FailedPrecondition while another snapshot has it as parent or stacks its layer.
   */
  async remove(name: string): Promise<void> {
    const rec = this.get(name);
    const ownLayer = rec.kind === "committed" && rec.chain.at(-1) === rec.id;
    for (const r of this.#byName.values()) {
      if (r === rec) continue;
      if (r.parent === name || (ownLayer && r.chain.includes(rec.id))) {
        throw new GantryError("FailedPrecondition",
          `Cannot remove snapshot "${name}": snapshot "${r.name}" depends on it.`);
      }
    }
    this.#byName.delete(name);
    this.#byId.delete(rec.id);
    try {
      await unlink(join(this.dirOf(rec.id), RECORD_FILE));
    } catch (err) {
      this.#put(rec);
      throw err;
    }
    // Without its record the directory is garbage; a failure here is cleaned on the next open.
    await rm(this.dirOf(rec.id), { recursive: true, force: true });
  }

  #put(rec: SnapshotRecord): void {
    this.#byName.set(rec.name, rec);
    this.#byId.set(rec.id, rec);
  }

  #reserve(name: string): void {
    if (!name) throw new GantryError("InvalidArgument", "A snapshot key or name must not be empty.");
    if (this.#byName.has(name) || this.#reserved.has(name)) {
      throw new GantryError("AlreadyExists", `Snapshot "${name}" already exists.`);
    }
    this.#reserved.add(name);
  }
}

/** The public view of a record. */
export function infoOf(rec: SnapshotRecord): SnapshotInfo {
  return { name: rec.name, parent: rec.parent, kind: rec.kind, created: new Date(rec.created), labels: { ...rec.labels } };
}

/** Keeps the last occurrence of each id: stacking a layer again puts it on top (later wins). */
export function dedupeChain(chain: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = chain.length - 1; i >= 0; i--) {
    if (seen.has(chain[i])) continue;
    seen.add(chain[i]);
    out.push(chain[i]);
  }
  return out.reverse();
}

async function readRecord(path: string): Promise<SnapshotRecord | undefined> {
  try {
    const rec = JSON.parse(await readFile(path, "utf8")) as SnapshotRecord;
    return typeof rec.id === "string" && typeof rec.name === "string" && Array.isArray(rec.chain) ? rec : undefined;
  } catch (err) {
    // No record (crash before the atomic write) or unreadable: the directory is a leftover.
    if (errnoOf(err) === "ENOENT" || err instanceof SyntaxError) return undefined;
    throw err;
  }
}
