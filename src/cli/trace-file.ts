// buildctl's `--trace FILE`: every progress update appended to FILE as one JSON line, the same
// SolveStatus shape as `--progress rawjson`, whatever the display mode.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { GantryError, messageOf } from "../util/errors.js";
import type { ProgressEvent } from "../util/progress-event.js";
import { RawJsonPrinter } from "./progress/rawjson-printer.js";

export interface TraceFile {
  write(event: ProgressEvent): void;
  /** Flushes the last update and closes the file. */
  close(): Promise<void>;
}

/** Opens `path` for appending (created 0600, as buildctl does); undefined when no path is given. */
export async function openTraceFile(path: string | undefined): Promise<TraceFile | undefined> {
  if (!path) return undefined;
  const out = createWriteStream(path, { flags: "a", mode: 0o600 });
  try {
    await once(out, "open");
  } catch (err) {
    throw new GantryError("InvalidArgument", `Cannot open --trace file ${path}: ${messageOf(err)}.`, { cause: err });
  }
  const printer = new RawJsonPrinter(out);
  return {
    write: (e) => printer.write(e),
    close: async () => {
      printer.finish();
      out.end();
      await once(out, "close");
    },
  };
}
