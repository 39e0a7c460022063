// containerd's distribution-source labels: which repositories of a registry a blob is known to be in
// (`containerd.io/distribution.source.<registry>` = comma-separated repositories). Pulls and pushes record
// them, so a later push to another repository of that registry can mount the blob instead of uploading it.
import type { ContentProvider, ContentStore } from "../content/content-store.js";
import type { Reference } from "../oci/reference.js";
import type { Digest } from "../util/digest.js";

export const DISTRIBUTION_SOURCE_LABEL = "containerd.io/distribution.source.";

type LabelStore = ContentProvider & Partial<Pick<ContentStore, "update">>;

/** The repositories of `registry` known to hold the blob; empty when none are (or the blob is unknown). */
export async function knownSources(store: LabelStore, digest: Digest, registry: string): Promise<string[]> {
  try {
    const info = await store.info(digest);
    return (info.labels?.[DISTRIBUTION_SOURCE_LABEL + registry] ?? "").split(",").filter(Boolean);
  } catch {
    return []; // only a hint: a push works without it
  }
}

/** Records that `target`'s repository holds the blob (no-op for stores that take no labels). */
export async function noteSource(store: LabelStore, digest: Digest, target: Pick<Reference, "registry" | "repository">): Promise<void> {
  if (!store.update) return;
  const known = await knownSources(store, digest, target.registry);
  if (known.includes(target.repository)) return;
  await store.update(digest, { [DISTRIBUTION_SOURCE_LABEL + target.registry]: [...known, target.repository].join(",") });
}
