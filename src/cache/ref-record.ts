// The in-memory side of a ref record, shared by the ref manager and the cache mount pool.
import type { RecordType } from "./metadata-db.js";

/** A record the manager tracks; see ref-manager.ts for what `handles` and `children` count. */
export interface RefRecord {
  readonly id: string;
  /** A cache mount (an active snapshot kept across builds). */
  readonly mutable: boolean;
  readonly deps: readonly RefRecord[];
  scope: string | null;
  handles: number;
  children: number;
  removed: boolean;
}

/** What creating a record takes: its snapshot must exist already, and the caller holds each dep once. */
export interface NewRecord {
  id: string;
  mutable: boolean;
  deps: RefRecord[];
  description?: string;
  recordType?: RecordType;
  checksumScope?: string;
  shareKey?: string;
}

/** What the cache mount pool needs of the manager. */
export interface RecordOwner {
  adoptRecord(row: NewRecord): RefRecord;
  releaseHandle(id: string): Promise<void>;
}
