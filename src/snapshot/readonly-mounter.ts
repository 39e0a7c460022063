// Optional ability of a snapshotter to show a committed snapshot read-only without creating a view
// snapshot for it. A view costs a directory, a record file and their removal (about ten file system calls)
// that a read-only overlay never uses: it has no upper or work directory. The ref manager uses it for
// every read-only mount (COPY sources, content checksums, read-only RUN mounts), holding the snapshot's
// record alive meanwhile, which is what the view snapshot's parent link guarded before.
import type { Mount, Snapshotter } from "./snapshotter.js";

export interface ReadonlyMounter {
  /**
   * Mounts showing committed `name` read-only. Nothing is created, so there is nothing to remove: the
   * caller unmounts and must keep `name` from being removed while mounted. NotFound / FailedPrecondition
   * (not committed); ResourceExhausted when its layers do not fit one mount.
   */
  readonlyMounts(name: string): Promise<Mount[]>;
}

export function isReadonlyMounter(s: Snapshotter): s is Snapshotter & ReadonlyMounter {
  return typeof (s as Partial<ReadonlyMounter>).readonlyMounts === "function";
}
