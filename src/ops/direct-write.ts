// Writing a copy straight into a snapshot's own layer directory instead of through its overlay mount.
// Every create through overlayfs first looks the name up in each lower layer, which makes a large COPY
// about three times slower than the same copy into a plain directory. When the copy's destination is a new
// top-level path (no layer, not even the writable one, has anything of that name), the merged view and the
// upper directory agree on everything the copy touches, so writing to the upper directory gives the layer
// the overlay would have made — and needs no mount at all.
import { lstat } from "node:fs/promises";
import { join, posix } from "node:path";
import type { FileAction } from "../gen/pb/ops_pb.js";
import type { Mount } from "../snapshot/snapshotter.js";
import { errnoOf } from "../util/errors.js";

/**
 * The directory a copy action can be run against instead of a mount of `mounts`, or undefined when it
 * must go through the mount: only copies whose owner is numeric or absent (a name would be looked up in
 * the merged /etc/passwd), into a destination whose first component is new to every layer.
 */
export async function directWriteDir(action: FileAction, mounts: readonly Mount[]): Promise<string | undefined> {
  if (action.action.case !== "copy" || mounts.length !== 1) return undefined;
  const copy = action.action.value;
  const byName = [copy.owner?.user, copy.owner?.group].some((u) => u?.user.case === "byName");
  if (byName) return undefined;
  const top = posix.normalize(`/${copy.dest}`).split("/").find((c) => c !== "");
  if (top === undefined) return undefined;
  const m = mounts[0];
  if (m.type === "bind") return m.options.includes("ro") ? undefined : m.source;
  if (m.type !== "overlay") return undefined;
  const upper = optionValue(m.options, "upperdir");
  const lower = optionValue(m.options, "lowerdir");
  // A lower dir list with escaped colons, or none at all, is not something this reads.
  if (upper === undefined || lower === undefined || lower.includes("\\")) return undefined;
  return (await anyHas([upper, ...lower.split(":")], top)) ? undefined : upper;
}

/** Layers looked at together: about the libuv pool's size, so a deep chain is not queued up at once. */
const LOOKUP_BATCH = 4;

/**
 * Whether any of `layers` (top first) has `name`. Looked up a batch at a time, top first, stopping at the
 * first batch that finds it: in a chain of COPYs into one directory the layer just below has it, and
 * asking every one of thirty layers would cost thirty lookups per step.
 */
async function anyHas(layers: readonly string[], name: string): Promise<boolean> {
  for (let i = 0; i < layers.length; i += LOOKUP_BATCH) {
    const found = await Promise.all(layers.slice(i, i + LOOKUP_BATCH).map((dir) => exists(join(dir, name))));
    if (found.some(Boolean)) return true;
  }
  return false;
}

function optionValue(options: readonly string[], key: string): string | undefined {
  for (const o of options.flatMap((x) => x.split(","))) {
    if (o.startsWith(`${key}=`)) return o.slice(key.length + 1);
  }
  return undefined;
}

/** Whether anything (a whiteout too) has the name; any doubt counts as taken. */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    return errnoOf(err) !== "ENOENT";
  }
}
