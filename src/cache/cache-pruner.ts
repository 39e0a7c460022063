// Disk usage and prune over the cache records, with upstream's rules: only records nobody uses and no
// other record depends on are removed (repeating, since removing a child frees its parent); without
// `all`, internal and frontend records stay; `keepDuration` spares records used recently; `keepBytes`
// removes least recently used records first and only until the total fits.
import { throwIfAborted } from "../util/errors.js";
import type { RefRow } from "./metadata-db.js";
import type { RefAdmin } from "./ref-manager.js";
import { parseUsageFilters } from "./usage-filter.js";
import type { UsageRecord } from "../util/usage-record.js";

/** One record as `du` and `prune` report it. */
export type UsageInfo = UsageRecord;

export interface PruneOptions {
  /** Also remove internal and frontend records. */
  all?: boolean;
  /** containerd filter strings (usage-filter.ts). */
  filters?: string[];
  /** Keep records used within this many milliseconds. */
  keepDuration?: number;
  /** Stop once the cache holds at most this many bytes (0 or absent: no limit, remove all that match). */
  keepBytes?: number;
  signal?: AbortSignal;
}

function infoOf(row: RefRow, size: number, inUse: boolean): UsageInfo {
  return {
    id: row.id, mutable: row.mutable, inUse, size, parents: row.deps, createdAt: new Date(row.createdAt),
    ...(row.lastUsedAt !== null ? { lastUsedAt: new Date(row.lastUsedAt) } : {}),
    usageCount: row.usageCount, description: row.description, recordType: row.recordType, shared: false,
  };
}

/** Every record matching `filters`, with its size. */
export async function cacheDiskUsage(admin: RefAdmin, filters: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<UsageInfo[]> {
  const filter = parseUsageFilters(filters);
  const out: UsageInfo[] = [];
  for (const r of admin.records()) {
    throwIfAborted(opts.signal);
    const info = infoOf(r, 0, r.inUse);
    if (!filter.matches(info)) continue;
    info.size = await admin.measure(r.id, opts).catch(() => 0);
    out.push(info);
  }
  return out;
}

/** Removes what `opts` selects, reporting each removed record; returns the bytes freed. */
export async function pruneCache(admin: RefAdmin, opts: PruneOptions, onRecord: (r: UsageInfo) => void = () => undefined): Promise<number> {
  const filter = parseUsageFilters(opts.filters ?? []);
  const keepBytes = opts.keepBytes ?? 0;
  let freed = 0;
  for (;;) {
    throwIfAborted(opts.signal);
    const records = admin.records();
    const sizes = new Map<string, number>();
    let total = 0;
    if (keepBytes > 0) {
      for (const r of records) {
        const size = await admin.measure(r.id, opts).catch(() => 0);
        sizes.set(r.id, size);
        total += size;
      }
      if (total <= keepBytes) return freed;
    }
    const cutoff = opts.keepDuration ? Date.now() - opts.keepDuration : undefined;
    let candidates = records.filter((r) => r.removable
      && (opts.all || (r.recordType !== "internal" && r.recordType !== "frontend"))
      && !(cutoff !== undefined && (r.lastUsedAt ?? r.createdAt) > cutoff)
      && filter.matches(infoOf(r, 0, r.inUse)));
    if (keepBytes > 0) {
      candidates.sort((a, b) => (a.lastUsedAt ?? a.createdAt) - (b.lastUsedAt ?? b.createdAt) || a.usageCount - b.usageCount);
      const take: typeof candidates = [];
      for (const c of candidates) {
        if (total <= keepBytes) break;
        take.push(c);
        total -= sizes.get(c.id) ?? 0;
      }
      candidates = take;
    }
    let removedAny = false;
    for (const c of candidates) {
      const size = sizes.get(c.id) ?? await admin.measure(c.id, opts).catch(() => 0);
      for (const row of await admin.remove(c.id)) {
        removedAny = true;
        const rowSize = row.id === c.id ? size : Math.max(row.size, 0);
        freed += rowSize;
        onRecord(infoOf(row, rowSize, false));
      }
    }
    if (!removedAny) return freed;
  }
}
