// Mounting snapshot mounts onto host directories. Node has no mount(2): the calls go through a resident
// helper process (mount-server.ts) and, where it cannot run, through mount(8)/umount(8), one spawn each.
import { execFile } from "node:child_process";
import { readFile, realpath } from "node:fs/promises";
import { promisify } from "node:util";
import { MountCallError, MountServer } from "./mount-server.js";
import type { Mount } from "./snapshotter.js";
import { errnoOf, GantryError, messageOf } from "../util/errors.js";

const run = promisify(execFile);

/** More mounts stacked on one target than any caller makes: a target that stays mounted is a bug. */
const MAX_STACKED = 64;

const MS_RDONLY = 0x1;
const MS_REMOUNT = 0x20;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MNT_DETACH = 0x2;
/** The mount(8) options that are flags of mount(2); any other option goes to the file system as data. */
const FLAG_OPTIONS: Record<string, number> = {
  ro: MS_RDONLY, rw: 0, nosuid: 0x2, nodev: 0x4, noexec: 0x8, noatime: 0x400, nodiratime: 0x800,
  relatime: 0x200000, strictatime: 0x1000000,
};

let server: MountServer | undefined | null = null;

/** The helper, started on first use; undefined where it cannot run (then mount(8) is spawned). */
function mountServer(): MountServer | undefined {
  if (server === null || server?.dead) server = process.env.GANTRY_MOUNT_SPAWN === "1" ? undefined : MountServer.start();
  return server;
}

/** A mount as bind-or-not, recursive-or-not, and its other options (mount(8)'s view of it). */
function parseMount(m: Mount): { isBind: boolean; recursive: boolean; opts: string[] } {
  return {
    isBind: m.type === "bind" || m.type === "rbind",
    recursive: m.type === "rbind" || m.options.includes("rbind"),
    opts: m.options.filter((o) => o !== "bind" && o !== "rbind"),
  };
}

async function mountOne(m: Mount, target: string): Promise<void> {
  const srv = mountServer();
  if (srv === undefined) return spawnMount(m, target);
  const { isBind, recursive, opts } = parseMount(m);
  let flags = isBind ? MS_BIND | (recursive ? MS_REC : 0) : 0;
  const data: string[] = [];
  for (const o of opts) {
    if (o in FLAG_OPTIONS) flags |= FLAG_OPTIONS[o];
    else data.push(o);
  }
  try {
    // A bind mount ignores MS_RDONLY on the first call; a remount applies it.
    await srv.mount(m.source, target, isBind ? null : m.type, isBind ? flags & ~MS_RDONLY : flags, data.length ? data.join(",") : null);
    if (isBind && flags & MS_RDONLY) await srv.mount(null, target, null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
  } catch (err) {
    if (!(err instanceof MountCallError)) return spawnMount(m, target); // the helper died: spawn instead
    throw new GantryError("Internal", `Cannot mount ${m.type} ${m.source} on ${target}: ${err.message}.`, { cause: err });
  }
}

async function spawnMount(m: Mount, target: string): Promise<void> {
  const { isBind, recursive, opts } = parseMount(m);
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
 * Unmounts everything mounted on `target` (lazily, so a busy mount cannot wedge cleanup), one umount2 per
 * stacked mount until the kernel says nothing is mounted there. Without the helper: spawns nothing when
 * mountinfo shows nothing mounted, and one umount(8) per stacked mount otherwise.
 */
export async function unmountAll(target: string): Promise<void> {
  const srv = mountServer();
  if (srv !== undefined) {
    for (let i = 0; i < MAX_STACKED; i++) {
      try {
        await srv.umount(target, MNT_DETACH);
      } catch (err) {
        if (!(err instanceof MountCallError)) return spawnUnmountAll(target);
        // EINVAL: not (or no longer) a mount point; ENOENT: the target is gone, so nothing is mounted there.
        if (err.code === "EINVAL" || err.code === "ENOENT") return;
        throw new GantryError("Internal", `Cannot unmount ${target}: ${err.message}.`, { cause: err });
      }
    }
    throw new GantryError("Internal", `Cannot unmount ${target}: it stays mounted after ${MAX_STACKED} unmounts.`);
  }
  return spawnUnmountAll(target);
}

async function spawnUnmountAll(target: string): Promise<void> {
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
