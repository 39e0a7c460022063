// The controller's cache administration: `du`, `prune`, and the automatic GC that runs once builds have
// gone quiet (upstream runs it about a second after each solve) and, if builds left work for it, when
// the engine closes (the embedded CLI closes right after its one build). GC never starts while a build
// runs: measuring and removing records would compete with the build's own I/O.
import type { GcPolicy } from "../cache/gc-policy.js";
import { runGc } from "../cache/gc-policy.js";
import { cacheDiskUsage, pruneCache, type PruneOptions, type UsageInfo } from "../cache/cache-pruner.js";
import type { RefAdmin } from "../cache/ref-manager.js";

export interface GcOptions {
  /** Automatic GC after builds; default true. */
  enabled?: boolean;
  /** buildkitd's `gckeepstorage`, in bytes; default 10% of the disk holding the root. */
  keepBytes?: number;
  /** buildkitd's `gcpolicy` rules; default upstream's four rules over `keepBytes`. */
  policy?: GcPolicy[];
  /** Quiet time after the last saved result before GC runs; default 1000 ms. */
  delayMs?: number;
}

export class CacheAdmin {
  readonly #admin: RefAdmin;
  readonly #policy: readonly GcPolicy[] | undefined;
  readonly #delayMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #dirty = false;
  #closed = false;
  #running = 0;

  /** `policy` undefined: no automatic GC. */
  constructor(admin: RefAdmin, policy: readonly GcPolicy[] | undefined, delayMs = 1000) {
    this.#admin = admin;
    this.#policy = policy;
    this.#delayMs = delayMs;
  }

  /** The GC rules in force (empty when automatic GC is off), for ListWorkers. */
  get policy(): readonly GcPolicy[] {
    return this.#policy ?? [];
  }

  /** Records matching the containerd `filters`, with sizes. InvalidArgument for a bad filter. */
  diskUsage(filters: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<UsageInfo[]> {
    return this.#serial(() => cacheDiskUsage(this.#admin, filters, opts));
  }

  /** Removes unused records per `opts`, calling `onRecord` for each; records in use stay. */
  prune(opts: PruneOptions, onRecord: (r: UsageInfo) => void = () => undefined): Promise<number> {
    return this.#serial(() => pruneCache(this.#admin, opts, onRecord));
  }

  /** One GC pass with the configured rules now (none when GC is off); returns what it removed. */
  gc(opts: { signal?: AbortSignal } = {}): Promise<UsageInfo[]> {
    this.#dirty = false;
    const policy = this.#policy;
    if (!policy) return Promise.resolve([]);
    return this.#serial(() => runGc(this.#admin, policy, opts));
  }

  /** A build saved results: GC runs after a quiet period with no build running, or at `close`. */
  noteActivity(): void {
    if (!this.#policy || this.#closed) return;
    this.#dirty = true;
    this.#arm();
  }

  /** A build starts; GC waits until the returned function has been called for every running build. */
  buildStarted(): () => void {
    this.#running++;
    clearTimeout(this.#timer);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#running--;
      if (this.#dirty) this.#arm();
    };
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (this.#running > 0 || this.#closed) return;
    this.#timer = setTimeout(() => void this.gc().catch(() => undefined), this.#delayMs);
    this.#timer.unref();
  }

  /** Runs the GC builds asked for, if it has not run yet, then stops scheduling. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    if (this.#dirty) await this.gc().catch(() => undefined);
    await this.#queue.catch(() => undefined);
  }

  // One admin operation at a time: a prune and a GC pass must not both measure and remove.
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.catch(() => undefined).then(fn);
    this.#queue = run;
    return run;
  }
}
