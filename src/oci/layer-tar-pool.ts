// The layer tar workers, kept for reuse: starting a worker costs about 40 ms of CPU, more than tarring a
// small layer. A worker runs one job at a time; one that failed or was aborted is terminated, never reused.
// Idle workers do not keep the process alive and exit after a few seconds.
import { Worker } from "node:worker_threads";

const IDLE_MS = 5_000;
/** Enough for the exporter's parallel layers (three by default). */
const MAX_IDLE = 4;

interface Idle {
  worker: Worker;
  timer: NodeJS.Timeout;
}

const idle: Idle[] = [];

/** A worker for one job: an idle one if there is one, else a new one. Hand it back with `releaseTarWorker`. */
export function takeTarWorker(): Worker {
  const next = idle.pop();
  if (next === undefined) return startWorker();
  clearTimeout(next.timer);
  next.worker.ref();
  return next.worker;
}

/** Returns the worker of a job that completed; it waits for the next job or exits when idle too long. */
export function releaseTarWorker(worker: Worker): void {
  if (idle.length >= MAX_IDLE) {
    void worker.terminate();
    return;
  }
  worker.unref();
  const entry: Idle = { worker, timer: setTimeout(() => dropIdle(entry, true), IDLE_MS).unref() };
  idle.push(entry);
}

function dropIdle(entry: Idle, terminate: boolean): void {
  const i = idle.indexOf(entry);
  if (i >= 0) idle.splice(i, 1);
  clearTimeout(entry.timer);
  if (terminate) void entry.worker.terminate();
}

function startWorker(): Worker {
  const worker = workerOfEntry();
  // A job listens for its worker's errors; between jobs nothing is running that could raise one, but an
  // 'error' without a listener would be thrown in this thread.
  worker.on("error", () => undefined);
  worker.once("exit", () => {
    const entry = idle.find((e) => e.worker === worker);
    if (entry !== undefined) dropIdle(entry, false);
  });
  return worker;
}

/**
 * The worker's entry sits beside this module: `dist/src/oci/` when compiled, and beside the bundle's
 * chunks (scripts/bundle.mjs builds it there) when bundled.
 */
function workerOfEntry(): Worker {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return new Worker(new URL("./layer-tar-worker.js", here));
  // Run from TypeScript source (tsx, in development): the worker needs tsx's loader before its own entry.
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./layer-tar-worker.ts", here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}
