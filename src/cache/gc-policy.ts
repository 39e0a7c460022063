// Automatic garbage collection: upstream's default policy (buildkitd's `gckeepstorage` and `gcpolicy`
// rules) and one GC pass that applies the rules in order.
import { statfs } from "node:fs/promises";
import type { RefAdmin } from "./ref-manager.js";
import { pruneCache, type UsageInfo } from "./cache-pruner.js";

/** One `[[worker.oci.gcpolicy]]` rule. */
export interface GcPolicy {
  all?: boolean;
  filters?: string[];
  /** Milliseconds: records used more recently stay. */
  keepDuration?: number;
  /** Bytes the cache may keep after this rule. */
  keepBytes?: number;
}

const HOUR = 3600_000;
const DEFAULT_CAP = 2e9;

/**
 * Upstream's default `gckeepstorage`: 10% of the disk holding `root`, rounded up to a whole GB
 * (2 GB when the disk cannot be measured).
 */
export async function defaultKeepBytes(root: string): Promise<number> {
  try {
    const st = await statfs(root);
    const tenth = (st.bsize * st.blocks) / 10;
    return (Math.floor(tenth / 2 ** 30) + 1) * 1e9;
  } catch {
    return DEFAULT_CAP;
  }
}

/**
 * Upstream's four default rules: easily rebuilt data (local contexts, cache mounts, git checkouts) unused
 * for 48 h once over 512 MB; anything unused for 60 days; everything but internal data over the cap;
 * then internal and frontend data too. (Upstream v0.11 wrote the first rule's three types as one
 * comma-joined filter, which containerd reads as "all three at once" and so never matched; they are
 * alternatives here, as later upstream versions have them.)
 */
export function defaultGcPolicy(keepBytes: number): GcPolicy[] {
  return [
    { filters: ["type==source.local", "type==exec.cachemount", "type==source.git.checkout"], keepDuration: 48 * HOUR, keepBytes: 512e6 },
    { keepDuration: 60 * 24 * HOUR, keepBytes },
    { keepBytes },
    { all: true, keepBytes },
  ];
}

/** Applies the rules in order; returns the records removed. Records in use are never touched. */
export async function runGc(admin: RefAdmin, policy: readonly GcPolicy[], opts: { signal?: AbortSignal } = {}): Promise<UsageInfo[]> {
  const removed: UsageInfo[] = [];
  for (const rule of policy) {
    await pruneCache(admin, { ...rule, signal: opts.signal }, (r) => removed.push(r));
  }
  return removed;
}
