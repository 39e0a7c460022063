import { GantryError } from "../../util/errors.js";
import type { ProgressPrinter } from "./progress-printer.js";
import { PlainPrinter } from "./plain-printer.js";
import { RawJsonPrinter } from "./rawjson-printer.js";
import { TtyPrinter } from "./tty-printer.js";

/** buildctl's `--progress` values. */
export type ProgressMode = "auto" | "tty" | "plain" | "rawjson" | "quiet";

/** Every mode, for validating `--progress` and `BUILDKIT_PROGRESS`. */
export const PROGRESS_MODES: readonly ProgressMode[] = ["auto", "tty", "plain", "rawjson", "quiet"];

/**
 * The printer for a mode; `auto` is tty on a console, plain otherwise; quiet prints nothing. `tty` on
 * something that is not a terminal is an InvalidArgument, as in buildctl.
 */
export function createPrinter(mode: ProgressMode, out: NodeJS.WriteStream): ProgressPrinter | undefined {
  if (mode === "quiet") return undefined;
  if (mode === "rawjson") return new RawJsonPrinter(out);
  if (mode === "tty" && !out.isTTY) {
    throw new GantryError("InvalidArgument", "--progress tty needs stderr to be a terminal; use --progress plain or rawjson.");
  }
  if (mode !== "plain" && out.isTTY) return new TtyPrinter(out);
  return new PlainPrinter(out);
}
