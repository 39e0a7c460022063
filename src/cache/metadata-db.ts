// The cache's metadata database: `metadata.db` (SQLite in WAL mode) under the state root. It holds the ref
// records (one per committed snapshot the cache keeps, plus the mutable cache mounts), the cache key →
// result rows, named pins (local source heads, unpacked image layers by chain id) and memoized content
// checksums. Every method is synchronous (better-sqlite3), so a check and the write that follows it run
// without another task in between; each multi-row change is one transaction.
//
// Crash rule shared with the ref manager: a snapshot is committed before its row is inserted and removed
// after its row is deleted, so after `kill -9` a row always names an existing snapshot, or repair drops it.
import Database from "better-sqlite3";
import type { Database as Db, Statement } from "better-sqlite3";

/** Upstream's record types (`client.UsageRecordType…`). */
export type RecordType = "regular" | "source.local" | "source.git.checkout" | "exec.cachemount" | "frontend" | "internal";

export const RECORD_TYPES: readonly RecordType[] = ["regular", "source.local", "source.git.checkout", "exec.cachemount", "frontend", "internal"];

export interface RefRow {
  id: string;
  mutable: boolean;
  recordType: RecordType;
  description: string;
  /** Cache mounts: the key they are found by (cache id and base). */
  shareKey: string | null;
  /** Refs in one scope may reuse each other's file checksums when size, times and inode match. */
  checksumScope: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  usageCount: number;
  /** Bytes on disk of the ref's own layer; -1 when not measured yet. */
  size: number;
  /** The refs this one keeps alive (its parent, merge or diff inputs), in order. */
  deps: string[];
}

export type NewRefRow = Pick<RefRow, "id" | "mutable" | "deps"> & Partial<Pick<RefRow, "recordType" | "description" | "shareKey" | "checksumScope">>;

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS refs (
  id TEXT PRIMARY KEY,
  mutable INTEGER NOT NULL,
  record_type TEXT NOT NULL,
  description TEXT NOT NULL,
  share_key TEXT,
  checksum_scope TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  usage_count INTEGER NOT NULL,
  size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refs_share_key ON refs(share_key);
CREATE TABLE IF NOT EXISTS ref_deps (
  ref_id TEXT NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
  pos INTEGER NOT NULL,
  dep_id TEXT NOT NULL REFERENCES refs(id) DEFERRABLE INITIALLY DEFERRED,
  PRIMARY KEY (ref_id, pos)
);
CREATE INDEX IF NOT EXISTS ref_deps_dep ON ref_deps(dep_id);
CREATE TABLE IF NOT EXISTS results (
  cache_key TEXT PRIMARY KEY,
  ref_id TEXT REFERENCES refs(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS results_ref ON results(ref_id);
CREATE TABLE IF NOT EXISTS named_refs (
  name TEXT PRIMARY KEY,
  ref_id TEXT NOT NULL REFERENCES refs(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS named_refs_ref ON named_refs(ref_id);
CREATE TABLE IF NOT EXISTS checksums (
  ref_id TEXT NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
  query TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (ref_id, query)
);
CREATE TABLE IF NOT EXISTS file_sums (
  scope TEXT NOT NULL,
  path TEXT NOT NULL,
  sig TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (scope, path)
);
`;

interface RawRef {
  id: string;
  mutable: number;
  record_type: string;
  description: string;
  share_key: string | null;
  checksum_scope: string | null;
  created_at: number;
  last_used_at: number | null;
  usage_count: number;
  size: number;
}

/** Typed access to metadata.db. One instance per state root; `close` when the worker closes. */
export class MetadataDb {
  readonly #db: Db;
  readonly #st: Record<string, Statement>;

  /** Opens (creating) the database at `path` (":memory:" for tests). */
  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma("journal_mode = WAL");
    // WAL with NORMAL survives a killed process (the case the crash rule is about); a power cut may lose
    // the newest transactions, which repair then treats like rows never written.
    this.#db.pragma("synchronous = NORMAL");
    this.#db.pragma("foreign_keys = ON");
    this.#db.pragma("busy_timeout = 5000");
    this.#db.exec(SCHEMA);
    // Writing the version each time would make every command (even `du`) start with a write transaction.
    if (this.#db.pragma("user_version", { simple: true }) !== SCHEMA_VERSION) this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const p = (sql: string): Statement => this.#db.prepare(sql);
    this.#st = {
      allRefs: p("SELECT * FROM refs"),
      allDeps: p("SELECT ref_id, dep_id FROM ref_deps ORDER BY ref_id, pos"),
      getRef: p("SELECT * FROM refs WHERE id = ?"),
      depsOf: p("SELECT dep_id FROM ref_deps WHERE ref_id = ? ORDER BY pos"),
      insertRef: p(`INSERT INTO refs (id, mutable, record_type, description, share_key, checksum_scope, created_at, last_used_at, usage_count, size)
        VALUES (@id, @mutable, @recordType, @description, @shareKey, @checksumScope, @now, @now, 0, -1)`),
      insertDep: p("INSERT INTO ref_deps (ref_id, pos, dep_id) VALUES (?, ?, ?)"),
      deleteRef: p("DELETE FROM refs WHERE id = ?"),
      retained: p(`SELECT EXISTS (SELECT 1 FROM results WHERE ref_id = @id) OR EXISTS (SELECT 1 FROM named_refs WHERE ref_id = @id)
        OR EXISTS (SELECT 1 FROM refs WHERE id = @id AND mutable = 1) AS r`),
      touch: p("UPDATE refs SET last_used_at = ?, usage_count = usage_count + 1 WHERE id = ?"),
      setSize: p("UPDATE refs SET size = ? WHERE id = ?"),
      describe: p(`UPDATE refs SET description = CASE WHEN @description IS NULL OR (@onlyEmpty AND description != '') THEN description ELSE @description END,
        record_type = COALESCE(@recordType, record_type), checksum_scope = COALESCE(@checksumScope, checksum_scope) WHERE id = @id`),
      byShareKey: p("SELECT id FROM refs WHERE share_key = ? AND mutable = 1 ORDER BY created_at"),
      loadResult: p("SELECT ref_id FROM results WHERE cache_key = ?"),
      saveResult: p("INSERT OR REPLACE INTO results (cache_key, ref_id, created_at) VALUES (?, ?, ?)"),
      named: p("SELECT ref_id FROM named_refs WHERE name = ?"),
      setNamed: p("INSERT OR REPLACE INTO named_refs (name, ref_id) VALUES (?, ?)"),
      unsetNamed: p("DELETE FROM named_refs WHERE name = ?"),
      allRetainedIds: p("SELECT ref_id AS id FROM results WHERE ref_id IS NOT NULL UNION SELECT ref_id FROM named_refs UNION SELECT id FROM refs WHERE mutable = 1"),
      getChecksum: p("SELECT digest FROM checksums WHERE ref_id = ? AND query = ?"),
      setChecksum: p("INSERT OR REPLACE INTO checksums (ref_id, query, digest) VALUES (?, ?, ?)"),
      scopeSums: p("SELECT path, sig, digest FROM file_sums WHERE scope = ?"),
      setFileSum: p("INSERT OR REPLACE INTO file_sums (scope, path, sig, digest) VALUES (?, ?, ?, ?)"),
      dropScope: p("DELETE FROM file_sums WHERE scope = ?"),
    };
  }

  /** Runs `fn` as one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  /** Every ref row with its deps. */
  refs(): RefRow[] {
    const deps = new Map<string, string[]>();
    for (const d of this.#st.allDeps.all() as Array<{ ref_id: string; dep_id: string }>) {
      let list = deps.get(d.ref_id);
      if (!list) deps.set(d.ref_id, (list = []));
      list.push(d.dep_id);
    }
    return (this.#st.allRefs.all() as RawRef[]).map((r) => rowOf(r, deps.get(r.id) ?? []));
  }

  /** One ref row, or undefined. */
  ref(id: string): RefRow | undefined {
    const r = this.#st.getRef.get(id) as RawRef | undefined;
    return r ? rowOf(r, (this.#st.depsOf.all(id) as Array<{ dep_id: string }>).map((d) => d.dep_id)) : undefined;
  }

  /** Inserts a ref and its deps (one transaction). Call after the snapshot exists. */
  insertRef(row: NewRefRow, now = Date.now()): void {
    this.transaction(() => {
      this.#st.insertRef.run({
        id: row.id, mutable: row.mutable ? 1 : 0, recordType: row.recordType ?? "regular", description: row.description ?? "",
        shareKey: row.shareKey ?? null, checksumScope: row.checksumScope ?? null, now,
      });
      row.deps.forEach((d, i) => this.#st.insertDep.run(row.id, i, d));
    });
  }

  /** Deletes refs with everything that points at them (results, pins, checksums). Call before removing snapshots. */
  deleteRefs(ids: readonly string[]): void {
    this.transaction(() => {
      for (const id of ids) this.#st.deleteRef.run(id);
    });
  }

  /** True when a result, a pin or its mutability (cache mounts) keeps the ref. */
  isRetained(id: string): boolean {
    return (this.#st.retained.get({ id }) as { r: number }).r === 1;
  }

  /** Ids of the refs kept directly (not through deps). */
  retainedIds(): Set<string> {
    return new Set((this.#st.allRetainedIds.all() as Array<{ id: string }>).map((r) => r.id));
  }

  touch(id: string, now = Date.now()): void {
    this.#st.touch.run(now, id);
  }

  setSize(id: string, size: number): void {
    this.#st.setSize.run(size, id);
  }

  /** Updates du metadata; `onlyIfEmpty` keeps an existing description. */
  describe(id: string, info: { description?: string; recordType?: RecordType; checksumScope?: string }, onlyIfEmpty = false): void {
    this.#st.describe.run({
      id, description: info.description ?? null, onlyEmpty: onlyIfEmpty ? 1 : 0, recordType: info.recordType ?? null, checksumScope: info.checksumScope ?? null,
    });
  }

  /** Mutable refs (cache mounts) found by `shareKey`, oldest first. */
  byShareKey(shareKey: string): string[] {
    return (this.#st.byShareKey.all(shareKey) as Array<{ id: string }>).map((r) => r.id);
  }

  /** The ref saved under a cache key: undefined when none, null for scratch. */
  loadResult(key: string): string | null | undefined {
    const r = this.#st.loadResult.get(key) as { ref_id: string | null } | undefined;
    return r === undefined ? undefined : r.ref_id;
  }

  /** Saves (replacing) a result row; returns the ref it replaced, if another. */
  saveResult(key: string, refId: string | null, now = Date.now()): string | null | undefined {
    return this.transaction(() => {
      const before = this.loadResult(key);
      this.#st.saveResult.run(key, refId, now);
      return before === refId ? undefined : before;
    });
  }

  named(name: string): string | undefined {
    return (this.#st.named.get(name) as { ref_id: string } | undefined)?.ref_id;
  }

  /** Pins `refId` under `name` (null unpins); returns the ref pinned before, if another. */
  setNamed(name: string, refId: string | null): string | undefined {
    return this.transaction(() => {
      const before = this.named(name);
      if (refId === null) this.#st.unsetNamed.run(name);
      else this.#st.setNamed.run(name, refId);
      return before === refId ? undefined : before;
    });
  }

  checksum(refId: string, query: string): string | undefined {
    return (this.#st.getChecksum.get(refId, query) as { digest: string } | undefined)?.digest;
  }

  setChecksum(refId: string, query: string, digest: string): void {
    this.#st.setChecksum.run(refId, query, digest);
  }

  /** The file checksums remembered for a scope, by path. */
  fileSums(scope: string): Map<string, { sig: string; digest: string }> {
    const rows = this.#st.scopeSums.all(scope) as Array<{ path: string; sig: string; digest: string }>;
    return new Map(rows.map((r) => [r.path, { sig: r.sig, digest: r.digest }]));
  }

  /** Stores many file checksums of a scope in one transaction. */
  setFileSums(scope: string, rows: ReadonlyArray<{ path: string; sig: string; digest: string }>): void {
    if (rows.length === 0) return;
    this.transaction(() => {
      for (const r of rows) this.#st.setFileSum.run(scope, r.path, r.sig, r.digest);
    });
  }

  /** Forgets a scope's file checksums. */
  dropScope(scope: string): void {
    this.#st.dropScope.run(scope);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function rowOf(r: RawRef, deps: string[]): RefRow {
  return {
    id: r.id, mutable: r.mutable === 1, recordType: r.record_type as RecordType, description: r.description,
    shareKey: r.share_key, checksumScope: r.checksum_scope, createdAt: r.created_at, lastUsedAt: r.last_used_at,
    usageCount: r.usage_count, size: r.size, deps,
  };
}
