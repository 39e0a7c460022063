// Special files (FIFOs, devices): Node has no mknod, so coreutils' `mknod` makes them.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { GantryError } from "../../util/errors.js";

const run = promisify(execFile);

/** The kind of special file to create. */
export type NodeKind = "fifo" | "char" | "block";

/** Creates a FIFO or device node at `hostPath` (mode fixed later by the caller's chmod). */
export async function makeNode(hostPath: string, kind: NodeKind, major = 0, minor = 0): Promise<void> {
  const args = kind === "fifo" ? [hostPath, "p"] : [hostPath, kind === "char" ? "c" : "b", String(major), String(minor)];
  try {
    await run("mknod", ["-m", "0600", ...args]);
  } catch (err) {
    throw new GantryError("Internal", `mknod ${hostPath}: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`,
      { cause: err });
  }
}

/** Splits a Linux `st_rdev` into major and minor numbers (glibc's encoding). */
export function splitDevice(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = (lo & 0xff) | ((lo >>> 12) & 0xfffff00);
  return { major, minor };
}
