// The layer tar worker: runs `produceLayerTar` for one job at a time, posting the archive in chunks and
// pausing while the main thread has not consumed them (see tar-sink.ts). Started by layer-tar-pool.ts.
import { parentPort } from "node:worker_threads";
import { errnoOf, GantryError, messageOf } from "../util/errors.js";
import { produceLayerTar } from "./layer-tar-producer.js";
import { xattrsFromWire, type FromWorker, type JobStart, type ToWorker } from "./layer-tar-protocol.js";
import { TarSink } from "./tar-sink.js";
import type { XattrMap } from "./xattr-reader.js";

parentPort?.on("message", (start: JobStart) => void runJob(start));

async function runJob({ job, port }: JobStart): Promise<void> {
  const post = (m: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  const sink = new TarSink((data, length) => post({ t: "chunk", data, length }, [data]));
  let gotXattrs: (m: XattrMap) => void = () => undefined;
  const xattrs = new Promise<XattrMap>((resolve) => (gotXattrs = resolve));
  port.on("message", (m: ToWorker) => {
    if (m.t === "ack") sink.ack();
    else gotXattrs(xattrsFromWire(m.map));
  });
  try {
    const entries = await produceLayerTar(job, sink, xattrs);
    const { diffId, size } = await sink.finish();
    post({ t: "done", diffId, size, entries });
  } catch (err) {
    post({ t: "fail", message: messageOf(err), code: err instanceof GantryError ? err.code : undefined, errno: errnoOf(err) });
  }
  // The main thread closes the port once it has the outcome; until then acks may still arrive.
}
