// The RemoteCache ports: an imported cache answers "which layer chain is the result of this key" and
// fetches those blobs on demand; backends (local directory, registry, inline in an image) implement it.
import type { ContentStore } from "../../content/content-store.js";
import type { Descriptor } from "../../oci/types.js";
import { isNotFound } from "../../util/errors.js";
import type { ImportedChain } from "./cache-config.js";

/** A cache imported for a build. Safe for concurrent use. */
export interface ImportedCache {
  /** What it was imported from (`local:/dir`, `registry:host/repo:tag`), for messages. */
  readonly name: string;
  /** How many keys have a result. */
  readonly size: number;
  /** The result layers of `key`, or undefined when the cache has none. */
  lookup(key: string): ImportedChain | undefined;
  /**
   * Makes `store` hold blob `desc` (nothing to do when it does). NotFound when the backend lacks it,
   * FailedPrecondition when its bytes do not match, Canceled on abort.
   */
  fetchBlob(desc: Descriptor, store: ContentStore, signal?: AbortSignal): Promise<void>;
}

/** An ImportedCache over a parsed key → chain map and a blob fetcher. */
export function importedCache(name: string, chains: ReadonlyMap<string, ImportedChain>,
  fetch: (desc: Descriptor, store: ContentStore, signal?: AbortSignal) => Promise<void>): ImportedCache {
  return {
    name,
    size: chains.size,
    lookup: (key) => chains.get(key),
    async fetchBlob(desc, store, signal) {
      if (await hasBlob(store, desc)) return;
      await fetch(desc, store, signal);
    },
  };
}

async function hasBlob(store: ContentStore, desc: Descriptor): Promise<boolean> {
  try {
    await store.info(desc.digest);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
