// Mounting snapshot mounts onto host directories. Node has no mount(2), so this spawns mount(8)/umount(8);
// both are quick and their errors say what went wrong.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Mount } from "./snapshotter.js";
import { GantryError, messageOf } from "../util/errors.js";

const run = promisify(execFile);

async function mountOne(m: Mount, target: string): Promise<void> {
  const isBind = m.type === "bind" || m.type === "rbind";
  const recursive = m.type === "rbind" || m.options.includes("rbind");
  const opts = m.options.filter((o) => o !== "bind" && o !== "rbind");
  const args = isBind
    ? [recursive ? "--rbind" : "--bind", m.source, target]
    : ["-t", m.type, m.source, target, ...(opts.length ? ["-o", opts.join(",")] : [])];
  try {
    await run("mount", args);
    // A bind mount ignores "ro" on the first call; remounting applies it.
    if (isBind && opts.includes("ro")) await run("mount", ["-o", "remount,ro,bind", target]);
  } catch (err) {
    throw new GantryError("Internal", `Cannot mount ${m.type} ${m.source} on ${target}: ${stderrOf(err)}`, { cause: err });
  }
}

/** Mounts `mounts` in order onto `target` (an existing directory). */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  for (const m of mounts) await mountOne(m, target);
}

/** Unmounts everything mounted on `target` (lazily, so a busy mount cannot wedge cleanup). */
export async function unmountAll(target: string): Promise<void> {
  for (;;) {
    try {
      await run("umount", ["-l", target]);
    } catch (err) {
      if (/not mounted|no mount point|not found/i.test(stderrOf(err))) return;
      throw new GantryError("Internal", `Cannot unmount ${target}: ${stderrOf(err)}`, { cause: err });
    }
  }
}

function stderrOf(err: unknown): string {
  const stderr = (err as { stderr?: unknown }).stderr;
  return typeof stderr === "string" && stderr.trim() ? stderr.trim() : messageOf(err);
}
