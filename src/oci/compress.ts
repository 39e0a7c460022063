// Layer compression as a streaming duplex. gzip is block-parallel zlib in the libuv pool
// (parallel-gzip.ts): deterministic bytes, no process to start, and it beats `pigz -6` here because it
// stores incompressible stretches instead of making zlib search them. An input under one block is a
// single zlib call, so tiny layers cost no more than a plain gzip. zstd goes through the `zstd` tool
// (Node 20 has none).
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { Duplex, PassThrough } from "node:stream";
import { createGzip } from "node:zlib";
import { canceledError, GantryError } from "../util/errors.js";
import { MediaType, type LayerCompression } from "./media-types.js";
import { createParallelGzip } from "./parallel-gzip.js";
import { startTool } from "./run-tool.js";

export interface CompressOptions {
  /** gzip 0–9 (default 6), zstd 1–22 (default 3); ignored for uncompressed. */
  level?: number;
  signal?: AbortSignal;
  /** gzip with one single-threaded zlib stream instead of the block-parallel one (benchmarks, or to
   * reproduce zlib's exact bytes). */
  builtinGzip?: boolean;
}

const DEFAULT_GZIP_LEVEL = 6;
const DEFAULT_ZSTD_LEVEL = 3;
const toolCache = new Map<string, boolean>();

/** True when `name` is an executable on PATH (looked up once per process). */
export function hasTool(name: string): boolean {
  let found = toolCache.get(name);
  if (found === undefined) {
    found = (process.env.PATH ?? "").split(delimiter).some((d) => {
      try {
        accessSync(join(d, name), constants.X_OK);
        return true;
      } catch {
        return false; // not in this PATH entry; keep looking
      }
    });
    toolCache.set(name, found);
  }
  return found;
}

/** Checks a compression level for `kind`; InvalidArgument naming the attr `compression-level`. */
export function checkCompressionLevel(kind: LayerCompression, level: number | undefined): void {
  if (level === undefined || kind === "uncompressed") return;
  const [min, max] = kind === "gzip" ? [0, 9] : [1, 22];
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new GantryError("InvalidArgument",
      `Invalid compression-level ${level} for ${kind}: expected an integer from ${min} to ${max}.`);
  }
}

/** The layer media type for `kind`, in OCI or Docker flavour. zstd exists only as an OCI type. */
export function layerMediaType(kind: LayerCompression, oci: boolean): string {
  switch (kind) {
    case "gzip":
      return oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip;
    case "zstd":
      return MediaType.ociLayerZstd;
    default:
      return oci ? MediaType.ociLayer : MediaType.dockerLayer;
  }
}

/**
 * A duplex: write a tar in, read the compressed bytes out. A failing compressor or a bad stream surfaces
 * as a stream error; aborting `signal` destroys the stream with Canceled (and kills the zstd tool).
 * Throws InvalidArgument for a bad level.
 */
export function compressStream(kind: LayerCompression, opts: CompressOptions = {}): Duplex {
  checkCompressionLevel(kind, opts.level);
  switch (kind) {
    case "gzip": {
      const level = opts.level ?? DEFAULT_GZIP_LEVEL;
      return opts.builtinGzip ? singleGzip(level, opts.signal) : createParallelGzip({ level, signal: opts.signal });
    }
    case "zstd": {
      const level = opts.level ?? DEFAULT_ZSTD_LEVEL;
      const args = ["-c", "-q", "-T0", `-${level}`];
      if (level > 19) args.unshift("--ultra");
      return toolDuplex("zstd", args, opts.signal);
    }
    default:
      return new PassThrough();
  }
}

/** One zlib gzip stream; aborting `signal` destroys it with Canceled. */
function singleGzip(level: number, signal?: AbortSignal): Duplex {
  const gz = createGzip({ level, chunkSize: 64 * 1024 });
  if (!signal) return gz;
  const onAbort = (): void => void gz.destroy(canceledError(signal));
  if (signal.aborted) process.nextTick(onAbort);
  else {
    signal.addEventListener("abort", onAbort, { once: true });
    gz.once("close", () => signal.removeEventListener("abort", onAbort));
  }
  return gz;
}

function toolDuplex(cmd: string, args: string[], signal?: AbortSignal): Duplex {
  const tool = startTool(cmd, args, { pipeStdin: true, pipeStdout: true, signal });
  const stdin = tool.child.stdin;
  const stdout = tool.child.stdout;
  if (!stdin || !stdout) throw new GantryError("Internal", `Cannot start ${cmd}: no pipes.`);
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  // stdout can end before the exit status is known: end `out` only after a clean exit, so a crashed
  // compressor never yields a truncated blob that looks complete.
  stdout.pipe(out, { end: false });
  let stdoutEnded = false;
  let exitedOk = false;
  const maybeEnd = (): void => {
    if (stdoutEnded && exitedOk) out.end();
  };
  stdout.once("end", () => {
    stdoutEnded = true;
    maybeEnd();
  });
  tool.done.then(() => {
    exitedOk = true;
    maybeEnd();
  }, (err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  // If the tool dies, writes fail with EPIPE; the exit status above carries the real reason.
  stdin.on("error", () => undefined);
  const duplex = Duplex.from({ writable: stdin, readable: out });
  // Destroying the duplex (a consumer gave up) must not leave the tool running.
  duplex.once("close", () => {
    if (tool.child.exitCode === null) tool.child.kill();
  });
  return duplex;
}
