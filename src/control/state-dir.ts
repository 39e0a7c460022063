// The engine's state directory: where it is, one process at a time, and what a new process clears.
import { execFile } from "node:child_process";
import { mkdir, open, readdir, readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GantryError, errnoOf, throwIfAborted } from "../util/errors.js";

const run = promisify(execFile);

/** `/var/lib/gantry` for root, else `$XDG_DATA_HOME/gantry`. */
export function defaultRoot(): string {
  if (process.getuid?.() === 0) return "/var/lib/gantry";
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), ".local/share"), "gantry");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) === "EPERM";
  }
}

/**
 * Takes the state directory's lock (a file holding our pid), waiting while another live process holds it.
 * A lock left by a dead process (kill -9) is taken over. Returns the release function.
 */
export async function lockStateDir(root: string, opts: { signal?: AbortSignal; onWait?: (pid: number) => void } = {}): Promise<() => Promise<void>> {
  await mkdir(root, { recursive: true, mode: 0o711 });
  const path = join(root, "lock");
  let warned = false;
  for (;;) {
    throwIfAborted(opts.signal);
    try {
      const fh = await open(path, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if (errnoOf(err) !== "EEXIST") throw new GantryError("Unavailable", `Cannot lock the state directory ${root}: ${errnoOf(err) ?? err}.`, { cause: err });
    }
    const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (!pid || !isAlive(pid)) {
      // The holder died without cleaning up; its lock is void. Removing it races only with another
      // process doing the same, and `wx` above lets exactly one of us win.
      await rm(path, { force: true });
      continue;
    }
    if (!warned) opts.onWait?.(pid);
    warned = true;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Mount points at or below `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const points = info.split("\n").map((l) => l.split(" ")[4]).filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)));
  return points.sort((a, b) => b.length - a.length);
}

/**
 * Clears what a previous process may have left: mounts under the state dir (views, cache mounts, container
 * roots), runc containers and transient dirs. Snapshots, metadata.db and content blobs stay: the cache
 * manager repairs them against each other when it opens (cache/cache-manager.ts).
 */
export async function resetTransientState(root: string, runcRoot: string): Promise<void> {
  for (const p of await mountsUnder(root)) await run("umount", ["-l", p]).catch(() => undefined);
  // runc keeps one directory per container under its root: with none there, skip spawning runc (a clean
  // start is the common case, and each spawn costs tens of milliseconds of every command).
  if ((await readdir(runcRoot).catch(() => [])).length > 0) {
    const list = await run("runc", ["--root", runcRoot, "list", "-q"]).catch(() => ({ stdout: "" }));
    for (const id of list.stdout.split("\n").filter(Boolean)) await run("runc", ["--root", runcRoot, "delete", "--force", id]).catch(() => undefined);
  }
  // `cachemounts` held plain cache directories before cache mounts became snapshots.
  await Promise.all(["executor", "tmp", "cachemounts-tmp", "cachemounts"].map((d) => rm(join(root, d), { recursive: true, force: true })));
}
