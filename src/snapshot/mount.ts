// Mounting snapshot mounts onto host directories. Node has no mount(2), so this spawns mount(8)/umount(8);
// both are quick and their errors say what went wrong. Each spawn costs a few milliseconds on every RUN
// step, so unmounting asks /proc/self/mountinfo first instead of calling umount until it fails.
import { execFile } from "node:child_process";
import { readFile, realpath } from "node:fs/promises";
import { promisify } from "node:util";
import type { Mount } from "./snapshotter.js";
import { errnoOf, GantryError, messageOf } from "../util/errors.js";

const run = promisify(execFile);

/** More mounts stacked on one target than any caller makes: a target that stays mounted is a bug. */
const MAX_STACKED = 64;

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

/**
 * Unmounts everything mounted on `target` (lazily, so a busy mount cannot wedge cleanup). Spawns nothing
 * when nothing is mounted there, and one umount per stacked mount otherwise.
 */
export async function unmountAll(target: string): Promise<void> {
  // mountinfo spells mount points as real paths; a target that no longer exists has nothing mounted on it.
  const real = await realpath(target).catch((err: unknown) => (errnoOf(err) === "ENOENT" ? undefined : target));
  if (real === undefined) return;
  for (let i = 0; await isMountPoint(real); i++) {
    if (i >= MAX_STACKED) throw new GantryError("Internal", `Cannot unmount ${target}: it stays mounted after ${i} unmounts.`);
    try {
      await run("umount", ["-l", target]);
    } catch (err) {
      // Someone else unmounted it between the check and the call.
      if (/not mounted|no mount point|not found/i.test(stderrOf(err))) return;
      throw new GantryError("Internal", `Cannot unmount ${target}: ${stderrOf(err)}`, { cause: err });
    }
  }
}

/** True when something is mounted exactly at `dir` (a real path) in this process's mount namespace. */
export async function isMountPoint(dir: string, mountinfo = "/proc/self/mountinfo"): Promise<boolean> {
  const text = await readFile(mountinfo, "utf8");
  for (const line of text.split("\n")) {
    const field = line.split(" ", 5)[4];
    if (field !== undefined && unescapeMountPath(field) === dir) return true;
  }
  return false;
}

/** Decodes mountinfo's octal escapes (`\040` for a space, and so on). */
function unescapeMountPath(p: string): string {
  return p.includes("\\") ? p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))) : p;
}

function stderrOf(err: unknown): string {
  const stderr = (err as { stderr?: unknown }).stderr;
  return typeof stderr === "string" && stderr.trim() ? stderr.trim() : messageOf(err);
}
