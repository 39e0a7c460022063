// A committed snapshot's whole content as a plain directory, when there is one: on the overlay snapshotter
// a snapshot of a single layer is that layer's directory, which can be read without a view, mount or
// unmount. Whiteouts in it (0/0 character devices) stand for nothing; readers that may meet them skip them.
import type { ImmutableRef } from "../cache/ref-manager.js";
import type { OpDeps } from "./op-deps.js";

/** The directory of `ref`'s only layer; undefined for scratch, several layers or the copy snapshotter. */
export async function soleLayerDir(deps: Pick<OpDeps, "refs" | "snapshotterKind">, ref: ImmutableRef | null): Promise<string | undefined> {
  if (deps.snapshotterKind !== "overlay" || ref === null) return undefined;
  const layers = await deps.refs.layers(ref);
  return layers.length === 1 ? layers[0].path : undefined;
}
