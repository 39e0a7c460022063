// The Snapshotter contract, containerd's shape, with one addition (merge) that LLB's MergeOp needs.
//
// Glossary (as containerd uses it):
// - key: the name of an active (mutable) snapshot, given to `prepare` or `view`.
// - name: the name of a committed (immutable) snapshot, given to `commit`.
// - parent: a committed snapshot that an active one starts from; "" or undefined means empty.
// Lifecycle: prepare(key, parent) → mount the returned Mounts and write → commit(name, key) (the active
// snapshot `key` is gone afterwards) → prepare(newKey, name)… A view is a read-only active snapshot that
// is removed, never committed. `remove` refuses a committed snapshot that is still a parent
// (FailedPrecondition). Unknown keys are NotFound; a name already taken is AlreadyExists.

export interface Mount {
  /** "overlay" or "bind". */
  type: string;
  source: string;
  options: string[];
}

export type SnapshotKind = "active" | "view" | "committed";

export interface SnapshotInfo {
  name: string;
  parent?: string;
  kind: SnapshotKind;
  created: Date;
  labels: Record<string, string>;
}

export interface Usage {
  size: number;
  inodes: number;
}

export interface SnapshotOptions {
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Snapshotter {
  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;
  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;
  mounts(key: string): Promise<Mount[]>;
  commit(name: string, key: string, opts?: SnapshotOptions): Promise<void>;
  /**
   * Creates the committed snapshot `name` whose content is `parents` stacked in order (later wins,
   * including deletions recorded in later parents' layers), without copying where the mechanism allows.
   */
  merge(name: string, parents: string[], opts?: SnapshotOptions): Promise<void>;
  stat(key: string): Promise<SnapshotInfo>;
  /** Disk usage of the snapshot's own layer (not its parents). */
  usage(key: string): Promise<Usage>;
  remove(key: string): Promise<void>;
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** One layer of a committed snapshot: the directory holding its own changes, in overlay form. */
export interface LayerDir {
  /** Directory whose tree is the layer's diff, with overlay whiteouts (0/0 char devices, opaque xattr). */
  path: string;
}

/**
 * Optional ability: a snapshotter that keeps each layer's diff as a directory (overlay upper dirs) and can
 * list a committed snapshot's layers bottom to top, so exporters turn them into tars without diffing.
 */
export interface LayerDiffer {
  layers(name: string): Promise<LayerDir[]>;
}

export function isLayerDiffer(s: Snapshotter): s is Snapshotter & LayerDiffer {
  return typeof (s as Partial<LayerDiffer>).layers === "function";
}
