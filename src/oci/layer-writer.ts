// Writes a layer directory as an OCI layer tar, streaming and hashing (the diffID) as it goes.
//
// The walk, the reads, the tar encoding and the hashing run in a worker thread with synchronous file
// system calls (layer-tar-producer.ts; the format is described there). Done on the main thread, a layer of
// many small files cost a promise, a libuv round trip and a callback per system call, while the same
// thread also has to compress and store the blob. Here the main thread only writes 1 MiB chunks to `out`,
// acknowledging each one once `out` can take more, so the worker runs a bounded distance ahead. A layer
// of a few small files (most RUN steps) is produced on this thread instead: for it a worker's start-up
// and message round trips would cost more than the tar.
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { MessageChannel } from "node:worker_threads";
import type { Digest } from "../util/digest.js";
import { canceledError, GantryError, isCanceled, messageOf, throwIfAborted } from "../util/errors.js";
import { releaseTarWorker, takeTarWorker } from "./layer-tar-pool.js";
import { produceLayerTar, type LayerTarJob } from "./layer-tar-producer.js";
import { xattrsToWire, type FromWorker, type JobStart, type ToWorker } from "./layer-tar-protocol.js";
import { TarSink } from "./tar-sink.js";
import { readXattrs, type XattrMap } from "./xattr-reader.js";

export interface LayerTarOptions {
  signal?: AbortSignal;
  /** SOURCE_DATE_EPOCH in seconds: later mtimes are clamped to it. */
  sourceDateEpoch?: number;
  /** Seconds since the epoch given to every entry (the tar/local exporters' `source-date-epoch`). */
  fixedMtime?: number;
  /** Convert overlay whiteouts to OCI ones (default true). Pass false for a merged rootfs. */
  overlayWhiteouts?: boolean;
  /** End `out` once the archive is written and wait for it to finish (default true). */
  end?: boolean;
  /**
   * The directory's xattrs read beforehand (see xattr-batch.ts); resolving to undefined or rejecting means
   * "read them here". Saves a getfattr process per layer when many are exported together.
   */
  xattrs?: Promise<XattrMap | undefined>;
}

export interface LayerTarResult {
  /** sha256 of the uncompressed tar stream. */
  diffId: Digest;
  /** Bytes of the uncompressed tar stream. */
  size: number;
  /** Number of entries written (0 for an empty directory). */
  entries: number;
}

/**
 * Streams `dir` as a layer tar into `out` and returns its diffID and size. Errors: Canceled when `signal`
 * aborts; Internal naming the path for file system failures; FailedPrecondition when a file changes size
 * while being read or `getfattr` (package `attr`) is missing. On failure the worker is terminated, and
 * `out` is destroyed (without an error event) when `end` is true; otherwise the caller owns it.
 */
export async function writeLayerTar(dir: string, out: Writable, opts: LayerTarOptions = {}): Promise<LayerTarResult> {
  // Listen for the whole write: an error of `out` while nothing of ours listens must not be uncaught.
  const absorb = (): void => undefined;
  out.on("error", absorb);
  try {
    throwIfAborted(opts.signal);
    const names = await readdir(dir);
    // getfattr runs while the worker starts and lists the first directory; it is sent over before the
    // first entry is written.
    const xattrs = names.length === 0 ? Promise.resolve(new Map()) : xattrsOf(dir, opts);
    xattrs.catch(() => undefined); // the job settles on it; a walk error may come first
    const job: LayerTarJob = {
      root: dir, names, sourceDateEpoch: opts.sourceDateEpoch, fixedMtime: opts.fixedMtime,
      overlayWhiteouts: opts.overlayWhiteouts !== false,
    };
    const result = (await isSmallTree(dir, names))
      ? await runHere(job, out, xattrs, opts.signal)
      : await runJob(job, out, xattrs, opts.signal);
    if (opts.end !== false) {
      out.end();
      await finished(out, { readable: false, signal: opts.signal });
    }
    out.off("error", absorb);
    return result;
  } catch (err) {
    const wrapped = wrapError(err, dir, opts.signal);
    // Destroyed without an error of ours (the caller gets `wrapped`; the consumer of `out` sees it close
    // early). Some duplexes still emit an AbortError: the listener stays attached to absorb it.
    if (opts.end !== false) out.destroy();
    else out.off("error", absorb);
    throw wrapped;
  }
}

/** A layer this small is tarred on this thread: the few system calls cost less than a worker's round trips. */
const SMALL_ENTRIES = 64;
const SMALL_BYTES = 256 * 1024;

/** Whether the tree under `dir` has at most SMALL_ENTRIES entries and SMALL_BYTES of files (stops early). */
async function isSmallTree(dir: string, names: string[]): Promise<boolean> {
  let entries = 0;
  let bytes = 0;
  const queue: Array<[string, string[]]> = [[dir, names]];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const [at, list] = next;
    entries += list.length;
    if (entries > SMALL_ENTRIES) return false;
    const stats = await Promise.all(list.map((n) => lstat(join(at, n))));
    for (const [i, st] of stats.entries()) {
      bytes += st.isFile() ? st.size : 0;
      if (bytes > SMALL_BYTES) return false;
      if (st.isDirectory()) queue.push([join(at, list[i]), await readdir(join(at, list[i]))]);
    }
  }
  return true;
}

/** `job` produced on this thread, chunks written to `out` (its backpressure respected). */
async function runHere(job: LayerTarJob, out: Writable, xattrs: Promise<XattrMap>, signal?: AbortSignal): Promise<LayerTarResult> {
  throwIfAborted(signal);
  // A slow `out` holds the producer at a chunk boundary; an abort must not wait for it.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(canceledError(signal));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    return await Promise.race([produceHere(job, out, xattrs), aborted]);
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

async function produceHere(job: LayerTarJob, out: Writable, xattrs: Promise<XattrMap>): Promise<LayerTarResult> {
  const sink: TarSink = new TarSink((data, length) => {
    if (out.write(Buffer.from(data, 0, length))) sink.ack();
    else out.once("drain", () => sink.ack());
  });
  const entries = await produceLayerTar(job, sink, xattrs);
  const { diffId, size } = await sink.finish();
  if (out.destroyed) throw closedError(out);
  return { diffId, size, entries };
}

async function xattrsOf(dir: string, opts: LayerTarOptions): Promise<XattrMap> {
  // A failed batch read is not this layer's error: reading alone reports the real cause, if any.
  const given = await opts.xattrs?.catch(() => undefined);
  return given ?? readXattrs(dir, { signal: opts.signal });
}

function wrapError(err: unknown, dir: string, signal?: AbortSignal): GantryError {
  if (signal?.aborted || isCanceled(err)) return canceledError(signal);
  if (err instanceof GantryError) return err;
  return new GantryError("Internal", `Cannot write the layer tar of ${dir}: ${messageOf(err)}`, { cause: err });
}

function closedError(out: Writable): Error {
  return out.errored ?? new Error("the destination stream was closed");
}

/** The worker's failure as an error of this thread: its code kept, or its errno for a file system error. */
function failureOf(m: Extract<FromWorker, { t: "fail" }>): Error {
  if (m.code !== undefined) return new GantryError(m.code, m.message);
  return Object.assign(new Error(m.message), m.errno === undefined ? {} : { code: m.errno });
}

/**
 * Runs `job` in a tar worker, writing its chunks to `out` in order. A chunk is acknowledged as soon as
 * `out` accepts it without asking to wait, otherwise on 'drain'. Settles once: with the worker's result,
 * or with the first of its failure, an error or close of `out`, the signal, or the worker dying.
 */
function runJob(job: LayerTarJob, out: Writable, xattrs: Promise<XattrMap>, signal?: AbortSignal): Promise<LayerTarResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(canceledError(signal));
    if (out.destroyed) return reject(closedError(out));
    const worker = takeTarWorker();
    const { port1: port, port2 } = new MessageChannel();
    const send = (m: ToWorker): void => port.postMessage(m);
    let owed = 0; // chunks written while `out` wants us to wait
    let settled = false;
    const onDrain = (): void => {
      for (; owed > 0; owed--) send({ t: "ack" });
    };
    const onOutError = (e: Error): void => settle(e);
    const onOutClose = (): void => settle(closedError(out));
    const onAbort = (): void => settle(canceledError(signal));
    const onWorkerError = (e: Error): void => settle(e);
    const onExit = (code: number): void => settle(new Error(`the layer tar worker exited (code ${code})`));
    function settle(err: unknown, result?: LayerTarResult): void {
      if (settled) return;
      settled = true;
      port.close();
      out.off("drain", onDrain).off("error", onOutError).off("close", onOutClose);
      worker.off("error", onWorkerError).off("exit", onExit);
      signal?.removeEventListener("abort", onAbort);
      if (result !== undefined) {
        releaseTarWorker(worker);
        resolve(result);
      } else {
        void worker.terminate();
        reject(err);
      }
    }
    port.on("message", (m: FromWorker) => {
      if (settled) return;
      if (m.t === "chunk") {
        const ok = out.write(Buffer.from(m.data, 0, m.length));
        if (ok && owed === 0) send({ t: "ack" });
        else owed++;
      } else if (m.t === "done") {
        settle(undefined, { diffId: m.diffId as Digest, size: m.size, entries: m.entries });
      } else {
        settle(failureOf(m));
      }
    });
    out.on("drain", onDrain).on("error", onOutError).on("close", onOutClose);
    worker.on("error", onWorkerError).on("exit", onExit);
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.postMessage({ job, port: port2 } satisfies JobStart, [port2]);
    xattrs.then((map) => {
      if (!settled) send({ t: "xattrs", map: xattrsToWire(map) });
    }, (err: unknown) => settle(err));
  });
}
