// Completed build history records on disk: `history.db` (SQLite, WAL) under the state root, beside the
// cache's `metadata.db`, as buildkitd keeps its own `history.db`. A record is stored as upstream's
// BuildHistoryRecord protobuf, with the columns retention needs (completion time, pin) and the blobs it
// references (logs, error), so deleting a record can tell which blobs no other record still uses.
// Synchronous (better-sqlite3): a read and the write that follows it run without another task between.
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { BuildHistoryRecordSchema, type BuildHistoryRecord } from "../gen/moby/buildkit/v1/control_pb.js";
import { GantryError, messageOf } from "../util/errors.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  ref TEXT PRIMARY KEY,
  completed_at INTEGER NOT NULL,
  pinned INTEGER NOT NULL,
  record BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS record_blobs (
  ref TEXT NOT NULL REFERENCES records(ref) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  PRIMARY KEY (ref, digest)
);
CREATE INDEX IF NOT EXISTS record_blobs_digest ON record_blobs(digest);
`;

/** The content blobs a record holds on to (its logs and external error). */
export function blobsOf(rec: BuildHistoryRecord): string[] {
  return [rec.logs, rec.externalError, rec.trace].flatMap((d) => (d?.digest ? [d.digest] : []));
}

/** Opens (creating if needed) `<root>/history.db`. */
export function openBuildHistoryStore(root: string): BuildHistoryStore {
  const path = join(root, "history.db");
  let db: Db;
  try {
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    // A commit need not reach the disk before the build returns: WAL keeps the file consistent, and a
    // power loss can at worst forget the newest records (a crash of the process loses nothing).
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.exec(SCHEMA);
  } catch (err) {
    throw new GantryError("Unavailable", `Cannot open the build history database ${path}: ${messageOf(err)}`, { cause: err });
  }
  return new BuildHistoryStore(db);
}

/** Completed build records by ref. Every method is synchronous; `close` once. */
export class BuildHistoryStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Inserts or replaces the record of `rec.Ref` (with the blobs it references). */
  put(rec: BuildHistoryRecord): void {
    const completed = rec.CompletedAt ? timestampMs(rec.CompletedAt) : Date.now();
    this.#db.transaction(() => {
      this.#db.prepare("INSERT INTO records (ref, completed_at, pinned, record) VALUES (?, ?, ?, ?) "
        + "ON CONFLICT(ref) DO UPDATE SET completed_at = excluded.completed_at, pinned = excluded.pinned, record = excluded.record")
        .run(rec.Ref, completed, rec.pinned ? 1 : 0, Buffer.from(toBinary(BuildHistoryRecordSchema, rec)));
      this.#db.prepare("DELETE FROM record_blobs WHERE ref = ?").run(rec.Ref);
      const add = this.#db.prepare("INSERT OR IGNORE INTO record_blobs (ref, digest) VALUES (?, ?)");
      for (const d of blobsOf(rec)) add.run(rec.Ref, d);
    })();
  }

  /** The record of `ref`, or undefined. */
  get(ref: string): BuildHistoryRecord | undefined {
    const row = this.#db.prepare("SELECT record FROM records WHERE ref = ?").get(ref) as { record: Buffer } | undefined;
    return row ? fromBinary(BuildHistoryRecordSchema, row.record) : undefined;
  }

  /** Every record, oldest completion first. */
  list(): BuildHistoryRecord[] {
    const rows = this.#db.prepare("SELECT record FROM records ORDER BY completed_at, ref").all() as Array<{ record: Buffer }>;
    return rows.map((r) => fromBinary(BuildHistoryRecordSchema, r.record));
  }

  /** Unpinned records as (ref, completion ms), newest first: what retention looks at. */
  unpinned(): Array<{ ref: string; completedAt: number }> {
    const rows = this.#db.prepare("SELECT ref, completed_at FROM records WHERE pinned = 0 ORDER BY completed_at DESC, ref")
      .all() as Array<{ ref: string; completed_at: number }>;
    return rows.map((r) => ({ ref: r.ref, completedAt: r.completed_at }));
  }

  /**
   * Removes the record of `ref`. Returns whether it existed and the blobs it referenced that no other
   * record references any more (the caller deletes those from the content store).
   */
  delete(ref: string): { existed: boolean; orphans: string[] } {
    return this.#db.transaction(() => {
      const digests = (this.#db.prepare("SELECT digest FROM record_blobs WHERE ref = ?").all(ref) as Array<{ digest: string }>)
        .map((r) => r.digest);
      const existed = this.#db.prepare("DELETE FROM records WHERE ref = ?").run(ref).changes > 0;
      const used = this.#db.prepare("SELECT 1 FROM record_blobs WHERE digest = ? LIMIT 1");
      return { existed, orphans: digests.filter((d) => used.get(d) === undefined) };
    })();
  }

  /** Every (record, blob) pair, without decoding the records: what the orphan check needs. */
  blobUses(): Array<{ ref: string; digest: string }> {
    return this.#db.prepare("SELECT ref, digest FROM record_blobs ORDER BY ref, digest").all() as Array<{ ref: string; digest: string }>;
  }

  /** Every blob digest some record references (a content GC must keep these). */
  referencedBlobs(): Set<string> {
    const rows = this.#db.prepare("SELECT DISTINCT digest FROM record_blobs").all() as Array<{ digest: string }>;
    return new Set(rows.map((r) => r.digest));
  }

  close(): void {
    this.#db.close();
  }
}
