// The engine's state directory: where it is, one process at a time, and what a new process clears.
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
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

/**
 * Binds the abstract unix socket that stands for `root`'s lock; undefined when another process holds it.
 * The kernel lets one socket hold a name and frees it when its process dies, kill -9 included, so there is
 * no stale lock to judge and no window in which two processes both think they hold it.
 */
function tryBind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err) => (errnoOf(err) === "EADDRINUSE" ? resolve(undefined) : reject(err)));
    server.listen(name, () => resolve(server));
  });
}

/**
 * Takes the state directory's lock, waiting while another process holds it. The lock is an abstract
 * socket named after the directory's device and inode (any spelling of the path finds it); `<root>/lock`
 * holds the holder's pid, only to say whom we wait for. Returns the release function.
 */
export async function lockStateDir(root: string, opts: { signal?: AbortSignal; onWait?: (pid: number) => void } = {}): Promise<() => Promise<void>> {
  await mkdir(root, { recursive: true, mode: 0o711 });
  const { dev, ino } = await stat(root);
  const name = `\0gantry-state-lock:${dev}:${ino}`;
  const pidFile = join(root, "lock");
  let warned = false;
  for (;;) {
    throwIfAborted(opts.signal);
    let server: Server | undefined;
    try {
      server = await tryBind(name);
    } catch (err) {
      throw new GantryError("Unavailable", `Cannot lock the state directory ${root}: ${errnoOf(err) ?? err}.`, { cause: err });
    }
    if (server) {
      const held = server;
      held.unref(); // the lock must not keep the process alive
      await writeFile(pidFile, String(process.pid));
      return async () => {
        // The pid goes first: the next holder writes its own only after the socket is free.
        await rm(pidFile, { force: true });
        await new Promise<void>((r) => held.close(() => r()));
      };
    }
    if (!warned) opts.onWait?.(Number((await readFile(pidFile, "utf8").catch(() => "")).trim()) || 0);
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
