// The messages between the layer writer (main thread) and its tar worker, one MessagePort per job.
import type { MessagePort } from "node:worker_threads";
import type { ErrorCode } from "../util/errors.js";
import type { LayerTarJob } from "./layer-tar-producer.js";
import type { XattrMap } from "./xattr-reader.js";

/** Xattrs as posted: plain arrays of exactly-sized byte arrays (a Buffer would clone its whole pool). */
export type WireXattrs = Array<[string, Array<[string, Uint8Array]>]>;

/** Posted to the worker's parentPort to start a job; everything else goes over `port`. */
export interface JobStart {
  job: LayerTarJob;
  port: MessagePort;
}

/** Main → worker: the xattrs (once, before any entry is written), or "one more chunk consumed". */
export type ToWorker = { t: "xattrs"; map: WireXattrs } | { t: "ack" };

/** Worker → main: a chunk of the archive (in order), the result, or the failure that ended the job. */
export type FromWorker =
  | { t: "chunk"; data: ArrayBuffer; length: number }
  | { t: "done"; diffId: string; size: number; entries: number }
  | { t: "fail"; message: string; code?: ErrorCode; errno?: string };

/** Converts an xattr map for posting. */
export function xattrsToWire(map: XattrMap): WireXattrs {
  return [...map].map(([rel, attrs]) => [rel, [...attrs].map(([k, v]) => [k, new Uint8Array(v)])]);
}

/** The map back from its posted form; values share the received memory. */
export function xattrsFromWire(wire: WireXattrs): XattrMap {
  return new Map(wire.map(([rel, attrs]) =>
    [rel, new Map(attrs.map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)]))]));
}
