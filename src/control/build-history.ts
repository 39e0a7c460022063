// Build history, as upstream's history queue: every non-internal build gets a record (request, outcome,
// step counts, its progress as a logs blob); running builds are held in memory and announced as STARTED,
// completed ones are stored (`BuildHistoryStore`) and announced as COMPLETE, deletions as DELETED.
// Retention follows upstream: unpinned records beyond the newest `maxEntries` that are also older than
// `maxAge` go, checked at start, every two minutes and after each build.
import { clone, create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { stat } from "node:fs/promises";
import {
  BuildHistoryEventSchema, BuildHistoryEventType, BuildHistoryRecordSchema, ExporterSchema,
  type BuildHistoryEvent, type BuildHistoryRecord, type StatusResponse,
} from "../gen/moby/buildkit/v1/control_pb.js";
import type { ContentStore } from "../content/content-store.js";
import { AsyncQueue } from "../util/async-queue.js";
import { Limiter } from "../util/limiter.js";
import { parseDigest } from "../util/digest.js";
import { GantryError, codeOf, errnoOf, messageOf } from "../util/errors.js";
import type { ProgressSink } from "../util/progress-event.js";
import { openBuildHistoryStore, type BuildHistoryStore } from "./build-history-store.js";
import { HistoryLogWriter, STATUS_LOG_MEDIA_TYPE, readStatusLog } from "./history-log-writer.js";
import { ERROR_STATUS_MEDIA_TYPE, errorStatusBytes, errorStatusOf, historyDescriptor, resultInfoOf } from "./history-record.js";

/** buildkitd.toml's `[history]`: records past both limits are removed (pinned ones never). */
export interface HistoryRetention {
  maxAgeMs: number;
  maxEntries: number;
}

/** Upstream's defaults: 48 hours, 50 records. */
export const DEFAULT_HISTORY_RETENTION: HistoryRetention = { maxAgeMs: 48 * 3600 * 1000, maxEntries: 50 };

const GC_INTERVAL_MS = 120_000;

/** What is known of a build when it starts. */
export interface BuildStart {
  ref: string;
  frontend: string;
  frontendAttrs: Record<string, string>;
  exporters: Array<{ type: string; attrs: Record<string, string> }>;
}

/** One running build's record: feed `sink` its progress, then call `finish` once (it never throws). */
export interface BuildRecording {
  sink: ProgressSink;
  finish(end: { exporterResponse?: Record<string, string>; error?: unknown }): Promise<void>;
}

/** What `listen` sends: as upstream's BuildHistoryRequest (Filter and Limit are not supported). */
export interface HistoryListenRequest {
  activeOnly?: boolean;
  ref?: string;
  earlyExit?: boolean;
}

/**
 * Opens the history of the state directory `root`: its `history.db`, with log blobs in `content`. Records
 * whose logs blob is gone are dropped, then retention runs; `close` stops the timer and the database.
 */
export async function openBuildHistory(root: string, content: ContentStore, retention: Partial<HistoryRetention> = {}): Promise<BuildHistory> {
  const history = new BuildHistory(openBuildHistoryStore(root), content, { ...DEFAULT_HISTORY_RETENTION, ...retention });
  history.startMaintenance();
  return history;
}

export class BuildHistory {
  readonly #store: BuildHistoryStore;
  readonly #content: ContentStore;
  readonly #retention: HistoryRetention;
  readonly #active = new Map<string, BuildHistoryRecord>();
  readonly #listeners = new Set<(e: BuildHistoryEvent) => void>();
  // Upstream keeps a record whose logs a listener is reading (a Ref listen) until the listener is done.
  readonly #holds = new Map<string, number>();
  readonly #deferred = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #maintenance: Promise<void> | undefined;

  constructor(store: BuildHistoryStore, content: ContentStore, retention: HistoryRetention) {
    this.#store = store;
    this.#content = content;
    this.#retention = retention;
  }

  /** Starts the record of a build and announces it (STARTED). */
  start(b: BuildStart): BuildRecording {
    const rec = create(BuildHistoryRecordSchema, {
      Ref: b.ref, Frontend: b.frontend, FrontendAttrs: b.frontendAttrs, CreatedAt: timestampNow(),
      Exporters: b.exporters.map((e) => create(ExporterSchema, { Type: e.type, Attrs: e.attrs })),
    });
    this.#active.set(b.ref, rec);
    this.#publish(BuildHistoryEventType.STARTED, rec);
    const logs = new HistoryLogWriter(this.#content, b.ref);
    return {
      sink: (e) => logs.push(e),
      finish: async (end) => {
        try {
          await this.#complete(rec, logs, end);
        } catch (err) {
          // The build's own outcome stands; only its record is lost.
          process.stderr.write(`gantry: cannot record build history for ${b.ref}: ${messageOf(err)}\n`);
        } finally {
          this.#active.delete(b.ref);
        }
      },
    };
  }

  async #complete(rec: BuildHistoryRecord, logs: HistoryLogWriter, end: { exporterResponse?: Record<string, string>; error?: unknown }): Promise<void> {
    rec.CompletedAt = timestampNow();
    const summary = await logs.finish();
    if (summary.blob) rec.logs = historyDescriptor({ mediaType: STATUS_LOG_MEDIA_TYPE, digest: summary.blob.digest, size: summary.blob.size });
    rec.numCachedSteps = summary.numCachedSteps;
    rec.numCompletedSteps = summary.numCompletedSteps;
    rec.numTotalSteps = summary.numTotalSteps;
    rec.numWarnings = summary.numWarnings;
    if (end.exporterResponse) {
      rec.ExporterResponse = { ...end.exporterResponse };
      const result = resultInfoOf(end.exporterResponse);
      if (result) rec.Result = result;
    }
    if (end.error !== undefined) {
      rec.error = errorStatusOf(end.error);
      const bytes = errorStatusBytes(rec.error);
      const digest = await this.#content.putBlob(bytes);
      rec.externalError = historyDescriptor({ mediaType: ERROR_STATUS_MEDIA_TYPE, digest, size: bytes.length });
    }
    this.#store.put(rec);
    this.#active.delete(rec.Ref);
    this.#publish(BuildHistoryEventType.COMPLETE, rec);
    await this.gc();
  }

  /**
   * Existing records first (running builds as STARTED, then completed ones as COMPLETE, oldest first),
   * then, unless `earlyExit`, live events until `signal` aborts. `ref` keeps to one build; `activeOnly`
   * skips completed records. NotFound for a ref that is being deleted.
   */
  async *listen(req: HistoryListenRequest, opts: { signal?: AbortSignal } = {}): AsyncGenerator<BuildHistoryEvent> {
    await this.ready();
    const ref = req.ref ?? "";
    if (ref && this.#deferred.has(ref)) throw new GantryError("NotFound", `Build record ${ref} is being deleted.`);
    // Subscribe before taking the snapshot, so an event in between is not lost (it may come twice).
    const live = new AsyncQueue<BuildHistoryEvent>();
    const listener = (e: BuildHistoryEvent): void => {
      if (!ref || e.record?.Ref === ref) live.push(e);
    };
    if (!req.earlyExit) this.#listeners.add(listener);
    const onAbort = (): void => live.end();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (ref) this.#holds.set(ref, (this.#holds.get(ref) ?? 0) + 1);
    try {
      const wanted = (r: BuildHistoryRecord): boolean => (!ref || r.Ref === ref) && !this.#deferred.has(r.Ref);
      const snapshot = [
        ...[...this.#active.values()].filter(wanted).map((r) => eventOf(BuildHistoryEventType.STARTED, r)),
        ...(req.activeOnly ? [] : (ref ? [this.#store.get(ref)].filter((r) => r !== undefined) : this.#store.list())
          .filter(wanted).map((r) => eventOf(BuildHistoryEventType.COMPLETE, r))),
      ];
      for (const e of snapshot) yield e;
      if (req.earlyExit || opts.signal?.aborted) return;
      for await (const e of live) yield e;
    } finally {
      this.#listeners.delete(listener);
      opts.signal?.removeEventListener("abort", onAbort);
      if (ref) await this.#release(ref);
    }
  }

  /** Pins or unpins a completed record (COMPLETE is sent again, Generation + 1). NotFound without one. */
  async setPinned(ref: string, pinned: boolean): Promise<void> {
    const rec = this.#store.get(ref);
    if (!rec || this.#deferred.has(ref)) throw new GantryError("NotFound", `No completed build record ${ref} to ${pinned ? "pin" : "unpin"}.`);
    if (rec.pinned === pinned) return;
    rec.pinned = pinned;
    rec.Generation++;
    this.#store.put(rec);
    this.#publish(BuildHistoryEventType.COMPLETE, rec);
  }

  /**
   * Deletes a record and its blobs (DELETED is sent). Unknown refs are no error, as upstream's; a running
   * build's record cannot be deleted (FailedPrecondition). While a listener reads the record, the deletion
   * waits for it to finish.
   */
  async delete(ref: string): Promise<void> {
    if (this.#active.has(ref)) throw new GantryError("FailedPrecondition", `Build ${ref} is still running: delete its record once it completes.`);
    if (this.#holds.has(ref)) {
      this.#deferred.add(ref);
      return;
    }
    await this.#remove(ref);
  }

  /** The completed record of `ref`, if there is one. */
  record(ref: string): BuildHistoryRecord | undefined {
    return this.#deferred.has(ref) ? undefined : this.#store.get(ref);
  }

  /**
   * The recorded progress of a completed build, as StatusResponse messages (none if it has no logs).
   * NotFound without a record. The record is kept until the reading ends.
   */
  async *logs(ref: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<StatusResponse> {
    await this.ready();
    const rec = this.record(ref);
    if (!rec) throw new GantryError("NotFound", `No completed build record ${ref}.`);
    if (!rec.logs?.digest) return;
    this.#holds.set(ref, (this.#holds.get(ref) ?? 0) + 1);
    try {
      yield* readStatusLog(this.#content, parseDigest(rec.logs.digest), opts);
    } finally {
      await this.#release(ref);
    }
  }

  /** Blob digests the records reference; a content-store GC must keep them. */
  referencedBlobs(): Set<string> {
    return this.#store.referencedBlobs();
  }

  /** Applies retention now; resolves with how many records it removed. */
  async gc(): Promise<number> {
    const records = this.#store.unpinned();
    if (records.length < this.#retention.maxEntries) return 0;
    const cutoff = Date.now() - this.#retention.maxAgeMs;
    let removed = 0;
    for (const r of records.slice(this.#retention.maxEntries)) {
      if (r.completedAt >= cutoff) continue;
      await this.delete(r.ref);
      removed++;
    }
    return removed;
  }

  /**
   * Drops records that reference a blob (logs, error, trace) missing from the content store, as upstream's
   * orphan check does for logs. Reads the blob table, not the records, and checks each blob once.
   */
  async dropOrphans(): Promise<void> {
    const uses = this.#store.blobUses();
    const limiter = new Limiter(8);
    const missing = new Set<string>();
    await Promise.all([...new Set(uses.map((u) => u.digest))].map((d) => limiter.run(async () => {
      try {
        // Only whether the blob is there: `info` would read its labels file too.
        await stat(this.#content.path(parseDigest(d)));
      } catch (err) {
        if (!isMissing(err)) throw err;
        missing.add(d);
      }
    })));
    const dropped = new Set<string>();
    for (const { ref, digest } of uses) {
      if (!missing.has(digest) || dropped.has(ref)) continue;
      dropped.add(ref);
      process.stderr.write(`gantry: deleting build record ${ref}: its blob ${digest} is missing\n`);
      await this.#remove(ref);
    }
  }

  /**
   * The orphan check and retention, in the background: with a few hundred records they cost a build
   * started by the CLI tens of milliseconds before its first step otherwise. Then retention every two
   * minutes (the timer does not keep the process alive). `close` waits for the first pass.
   */
  startMaintenance(): void {
    this.#maintenance ??= (async () => {
      await this.dropOrphans();
      await this.gc();
    })().catch((err: unknown) => {
      process.stderr.write(`gantry: build history maintenance failed: ${messageOf(err)}\n`);
    });
    this.#timer ??= setInterval(() => void this.gc().catch(() => undefined), GC_INTERVAL_MS).unref();
  }

  /** Settles once the first orphan check and retention pass are done; `record` may show orphans before. */
  async ready(): Promise<void> {
    await this.#maintenance;
  }

  async close(): Promise<void> {
    await this.#maintenance;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#store.close();
  }

  async #release(ref: string): Promise<void> {
    const n = (this.#holds.get(ref) ?? 1) - 1;
    if (n > 0) {
      this.#holds.set(ref, n);
      return;
    }
    this.#holds.delete(ref);
    if (this.#deferred.delete(ref)) await this.#remove(ref).catch(() => undefined);
  }

  async #remove(ref: string): Promise<void> {
    const { existed, orphans } = this.#store.delete(ref);
    if (!existed) return;
    this.#publish(BuildHistoryEventType.DELETED, create(BuildHistoryRecordSchema, { Ref: ref }));
    for (const d of orphans) {
      await this.#content.delete(parseDigest(d)).catch((err: unknown) => {
        if (!isMissing(err)) throw err;
      });
    }
  }

  #publish(type: BuildHistoryEventType, rec: BuildHistoryRecord): void {
    if (!this.#listeners.size) return;
    const e = eventOf(type, rec);
    for (const l of this.#listeners) l(e);
  }
}

/** An event carrying a copy of the record, so later changes to a running record do not leak into it. */
function eventOf(type: BuildHistoryEventType, rec: BuildHistoryRecord): BuildHistoryEvent {
  return create(BuildHistoryEventSchema, { type, record: clone(BuildHistoryRecordSchema, rec) });
}

/** A blob that is already gone (removed by hand, or a crash between the row and the file). */
function isMissing(err: unknown): boolean {
  return codeOf(err) === "NotFound" || errnoOf(err) === "ENOENT";
}
