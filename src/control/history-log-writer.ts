// A build's progress as a content-store blob, for its history record: upstream's
// `application/vnd.buildkit.status.v0` format, a sequence of StatusResponse protobufs each preceded by its
// length as a little-endian uint32 (uncompressed, as upstream writes it). Events are batched per tick, as
// Control.Status sends them, and written while the build runs, so a long log is never held whole.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Readable } from "node:stream";
import { StatusResponseSchema, type StatusResponse } from "../gen/moby/buildkit/v1/control_pb.js";
import type { ContentStore, ContentWriter } from "../content/content-store.js";
import type { Digest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import type { ProgressEvent } from "../util/progress-event.js";
import { statusResponseOf } from "./status-response.js";

export const STATUS_LOG_MEDIA_TYPE = "application/vnd.buildkit.status.v0";

const FLUSH_MS = 100;
const MAX_MESSAGE = 64 * 1024 * 1024;

/** What the progress of a finished build amounts to. */
export interface StatusLogSummary {
  /** Undefined when the blob could not be written (the record then has no logs). */
  blob?: { digest: Digest; size: number };
  numCachedSteps: number;
  numCompletedSteps: number;
  numTotalSteps: number;
  numWarnings: number;
}

/**
 * Records one build's progress: `push` every event (never blocks or throws), then `finish` once to write
 * the rest, commit the blob and count the steps (a step is a vertex digest; cached or completed if any of
 * its updates said so, as upstream counts).
 */
export class HistoryLogWriter {
  readonly #content: ContentStore;
  readonly #ref: string;
  readonly #steps = new Map<string, { cached: boolean; completed: boolean }>();
  #warnings = 0;
  #pending: ProgressEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writer: Promise<ContentWriter> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #size = 0;
  #failed = false;

  constructor(content: ContentStore, ref: string) {
    this.#content = content;
    this.#ref = ref;
  }

  /** Takes one progress event (a ProgressSink). */
  push(e: ProgressEvent): void {
    if (e.type === "vertex") {
      const s = this.#steps.get(e.digest) ?? { cached: false, completed: false };
      s.cached ||= e.cached === true;
      s.completed ||= e.completed !== undefined;
      this.#steps.set(e.digest, s);
    } else if (e.type === "warning") this.#warnings++;
    this.#pending.push(e);
    this.#timer ??= setTimeout(() => this.#flush(), FLUSH_MS);
  }

  /** Writes what is left and commits the blob; resolves with the blob (if written) and the counts. */
  async finish(): Promise<StatusLogSummary> {
    this.#flush();
    await this.#chain;
    let blob: StatusLogSummary["blob"];
    if (this.#writer && !this.#failed) {
      const w = await this.#writer;
      blob = { digest: await w.commit({ size: this.#size }), size: this.#size };
    }
    const steps = [...this.#steps.values()];
    return {
      ...(blob ? { blob } : {}),
      numCachedSteps: steps.filter((s) => s.cached).length,
      numCompletedSteps: steps.filter((s) => s.completed).length,
      numTotalSteps: steps.length,
      numWarnings: this.#warnings,
    };
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#pending.length) return;
    const message = toBinary(StatusResponseSchema, statusResponseOf(this.#pending));
    this.#pending = [];
    const frame = Buffer.alloc(4 + message.length);
    frame.writeUInt32LE(message.length, 0);
    frame.set(message, 4);
    this.#size += frame.length;
    this.#writer ??= this.#content.writer({ ref: `history-logs-${this.#ref}` });
    const writer = this.#writer;
    // Writes stay in order on one chain; a failure drops the logs, not the build.
    this.#chain = this.#chain.then(async () => {
      if (this.#failed) return;
      await (await writer).write(frame);
    }).catch(async () => {
      this.#failed = true;
      await writer.then((w) => w.abort()).catch(() => undefined);
    });
  }
}

/** Reads a status log blob back as StatusResponse messages, in order. */
export async function* readStatusLog(content: ContentStore, digest: Digest, opts: { signal?: AbortSignal } = {}): AsyncGenerator<StatusResponse> {
  const stream: Readable = await content.reader(digest, opts);
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (buf.length < 4) break;
      const n = buf.readUInt32LE(0);
      if (n > MAX_MESSAGE) throw new GantryError("FailedPrecondition", `Status log ${digest} holds a ${n}-byte message: the blob is corrupt.`);
      if (buf.length < 4 + n) break;
      yield fromBinary(StatusResponseSchema, buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
    }
  }
  if (buf.length) throw new GantryError("FailedPrecondition", `Status log ${digest} ends inside a message: the blob is truncated.`);
}
