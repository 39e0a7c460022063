import type { ProgressPrinter } from "./progress-printer.js";
import { PlainPrinter } from "./plain-printer.js";
import { TtyPrinter } from "./tty-printer.js";

export type ProgressMode = "auto" | "tty" | "plain" | "quiet";

/** The printer for a mode; `auto` is tty on a console, plain otherwise; quiet prints nothing. */
export function createPrinter(mode: ProgressMode, out: NodeJS.WriteStream): ProgressPrinter | undefined {
  if (mode === "quiet") return undefined;
  if (mode === "tty" || (mode === "auto" && out.isTTY)) return new TtyPrinter(out);
  return new PlainPrinter(out);
}
