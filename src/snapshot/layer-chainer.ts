// Optional ability of snapshotters that build committed snapshots as stacks of layer directories (both
// of ours): read a snapshot's layer chain and commit a snapshot from any chain of existing layers. The
// ref manager uses it for diff(lower, upper) when upper's chain extends lower's (no file is copied).
import type { SnapshotOptions, Snapshotter } from "./snapshotter.js";

export interface LayerChainer {
  /** Layer ids of committed `name`, bottom → top. NotFound / FailedPrecondition (not committed). */
  chain(name: string): Promise<string[]>;
  /**
   * Creates committed `name` whose content is the given layers stacked bottom → top. Every id must be a
   * layer of a committed snapshot (NotFound otherwise); those snapshots cannot be removed while `name`
   * lives (FailedPrecondition). AlreadyExists when `name` is taken.
   */
  commitChain(name: string, chain: readonly string[], opts?: SnapshotOptions): Promise<void>;
}

export function isLayerChainer(s: Snapshotter): s is Snapshotter & LayerChainer {
  const c = s as Partial<LayerChainer>;
  return typeof c.chain === "function" && typeof c.commitChain === "function";
}
