// What the engine may ask of the client during a build. In the embedded mode the client's files are on the
// same host (direct-session.ts); through the daemon the same calls travel over the session stream.
import type { LocalTreeIndex } from "./local-tree-index.js";

export interface LocalSyncOptions {
  /** Only these paths (patterns), when given. */
  include?: string[];
  exclude?: string[];
  /** Paths that must be sent even when excluded; symlinks on the way to them are followed. */
  followPaths?: string[];
  /**
   * A directory holding exactly what `dest` holds before the sync (the layer under an overlay `dest`), read
   * instead of `dest` to compare: a fresh overlay mount looks each path up anew, at about twice the cost.
   * Never written. Sessions that do not sync in-process ignore it.
   */
  previous?: string;
  /**
   * What `dest` holds before the sync, from the index the sync that made it returned: compared with instead
   * of `dest` (or `previous`). The caller must only pass an index that describes exactly that content.
   * Both the in-process sync and the gRPC session (DiffCopy receive) use it.
   */
  previousIndex?: LocalTreeIndex;
  /**
   * With `previousIndex`: `dest` does not exist yet, and the sync awaits this (once is enough) before it
   * first reads, writes or deletes anything there; a sync that finds nothing to change never calls it.
   * Without `previousIndex` the sync calls it before it starts. A rejection fails the sync.
   */
  openDest?: () => Promise<void>;
  signal?: AbortSignal;
}

export interface LocalSyncStats {
  /** Regular files whose content was copied (unchanged ones kept in place are not counted). */
  files: number;
  bytes: number;
  /** What `dest` holds after the sync, when the session knows it: the next `previousIndex`. */
  index?: LocalTreeIndex;
}

export interface BuildSession {
  readonly id: string;
  /** The client's key for "the same context as last time": it lets the daemon reuse an earlier copy. */
  readonly sharedKey: string;
  /**
   * Makes `dest` (a directory the engine owns, possibly holding an earlier copy) an exact copy of the
   * client's local directory `name`, filtered by the options. NotFound when the client has no such name.
   */
  syncLocal(name: string, dest: string, opts: LocalSyncOptions): Promise<LocalSyncStats>;
  /** The secret's bytes; NotFound when the client has no secret with that id. */
  getSecret(id: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array>;
}
