// Where a tarball-producing exporter writes: a file, or stdout for `dest=-` (never a terminal).
import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Writable } from "node:stream";
import { GantryError } from "../util/errors.js";
import type { VertexProgress } from "../solver/progress.js";

export interface Destination {
  out: Writable;
  /** Whether the writer should end `out` (false for stdout, which must stay open). */
  end: boolean;
}

/** Checks a tarball `dest` attr at resolve time; InvalidArgument naming the exporter. */
export function checkTarDest(exporter: string, dest: string | undefined, stdout: Writable & { isTTY?: boolean }): string {
  if (dest === undefined || dest === "") {
    throw new GantryError("InvalidArgument", `The ${exporter} exporter needs a dest attr: a file path, or - for stdout.`);
  }
  if (dest === "-" && stdout.isTTY) {
    throw new GantryError("InvalidArgument", `The ${exporter} exporter refuses to write a tarball to a terminal; redirect stdout or set dest to a file.`);
  }
  return dest;
}

/**
 * Opens `dest` for writing (truncating a file), or hands out `stdout` for `-`. The file is opened before
 * the stream exists so that a bad path is an awaited error, not a stray 'error' event.
 */
export async function openTarDest(dest: string, stdout: Writable): Promise<Destination> {
  if (dest === "-") return { out: stdout, end: false };
  let handle;
  try {
    handle = await open(dest, "w", 0o644);
  } catch (err) {
    throw new GantryError("FailedPrecondition", `Cannot open the export destination ${dest}: ${(err as Error).message}`, { cause: err });
  }
  return { out: createWriteStream("", { fd: handle }), end: true };
}

/** Runs `fn` as a named status line of the export vertex (`exporting layers`, `sending tarball`). */
export async function withStatus<T>(progress: VertexProgress | undefined, id: string, fn: () => Promise<T>): Promise<T> {
  progress?.status(id, 0, 0);
  const result = await fn();
  progress?.statusDone(id);
  return result;
}
