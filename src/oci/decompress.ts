// Decompression of layer blobs by media type: gzip in-process (zlib runs in the libuv pool), zstd through
// the `zstd` tool (Node 20 has no zstd), uncompressed as a passthrough.
import { Duplex, PassThrough } from "node:stream";
import { createGunzip } from "node:zlib";
import { layerCompression } from "./media-types.js";
import { startTool } from "./run-tool.js";

/**
 * A duplex that takes a layer blob of `mediaType` and yields the uncompressed tar. Errors (corrupt data,
 * a failing `zstd`) surface as stream errors; aborting `signal` destroys the stream with Canceled.
 */
export function decompressStream(mediaType: string, opts: { signal?: AbortSignal } = {}): Duplex {
  switch (layerCompression(mediaType)) {
    case "gzip":
      return createGunzip();
    case "zstd":
      return zstdDecompress(opts.signal);
    default:
      return new PassThrough();
  }
}

function zstdDecompress(signal?: AbortSignal): Duplex {
  const tool = startTool("zstd", ["-d", "-c", "-q"], { pipeStdin: true, pipeStdout: true, signal });
  const stdin = tool.child.stdin!;
  const stdout = tool.child.stdout!;
  const out = new PassThrough();
  // stdout ends before the exit status is known: end `out` only once zstd has exited cleanly.
  stdout.pipe(out, { end: false });
  const exited = tool.done;
  stdout.once("end", () => {
    exited.then(() => out.end(), (err: unknown) => out.destroy(err as Error));
  });
  exited.catch((err: unknown) => out.destroy(err as Error));
  // A consumer that stops early makes zstd's stdin close: that is not an error worth surfacing.
  stdin.on("error", () => undefined);
  const duplex = Duplex.from({ writable: stdin, readable: out });
  // A consumer that gives up early must not leave zstd running.
  duplex.once("close", () => {
    if (tool.child.exitCode === null && tool.child.signalCode === null) tool.child.kill();
  });
  return duplex;
}
