// A thin wrapper over the runc command line, with one state root of our own (`--root`) so our containers
// never mix with other runc users'. Only `run` waits on a container; the rest are quick state changes.
import { execFile, spawn } from "node:child_process";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { GantryError, canceledError, messageOf } from "../util/errors.js";

const execFileP = promisify(execFile);

/** How long a canceled container may take to die before we kill runc itself. */
const KILL_GRACE_MS = 10_000;
const KILL_RETRY_MS = 25;

export interface RuncRunOptions {
  /** Where runc writes the container's init pid once it has started (proves the start succeeded). */
  pidFile: string;
  /** runc's own JSON log, read back to explain a failed start. */
  logFile: string;
  output?: (stream: 1 | 2, data: Uint8Array) => void;
  /** Piped to the container's stdin; without it stdin is /dev/null. */
  stdin?: Readable;
  signal?: AbortSignal;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export class RuncCli {
  readonly #runc: string;
  readonly #stateRoot: string;

  /** `runc` is the binary to call; `stateRoot` the directory given to `runc --root`. */
  constructor(runc: string, stateRoot: string) {
    this.#runc = runc;
    this.#stateRoot = stateRoot;
  }

  /**
   * `runc run` in the foreground with piped stdio; resolves with the container's exit code (signals as
   * 128+n). runc removes the container when it exits (no `--keep`: a separate `runc delete` would cost a
   * process per step). A container that never started (bad command, bad mount) is InvalidArgument or
   * Internal with runc's reason. On abort it kills the container (retrying until runc has created it),
   * waits for runc to exit and rejects with Canceled. The caller still calls `deleteLeftover`, for a runc
   * that was killed before it could clean up.
   */
  async run(id: string, bundle: string, opts: RuncRunOptions): Promise<number> {
    const args = ["--root", this.#stateRoot, "--log", opts.logFile, "--log-format", "json",
      "run", "--pid-file", opts.pidFile, "--bundle", bundle, id];
    const stdin = opts.stdin ? "pipe" : "ignore";
    const child = spawn(this.#runc, args, { stdio: [stdin as "pipe", "pipe", "pipe"] });
    if (opts.stdin) {
      child.stdin.on("error", () => undefined); // EPIPE once the process exits; its exit status tells the story
      opts.stdin.pipe(child.stdin);
    }
    child.stdout.on("data", (b: Buffer) => opts.output?.(1, b));
    child.stderr.on("data", (b: Buffer) => opts.output?.(2, b));
    const exited = new Promise<Exit>((resolve, reject) => {
      child.once("error", reject);
      // `close` (not `exit`) so every byte of output has been delivered before we resolve.
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
    const signal = opts.signal;
    const onAbort = (): void => void this.#killUntilExit(id, exited, () => child.kill("SIGKILL"));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let exit: Exit;
    try {
      exit = await exited;
    } catch (err) {
      throw new GantryError("Unavailable", `Cannot run ${this.#runc}: ${messageOf(err)}`, { cause: err });
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    if (signal?.aborted) throw canceledError(signal);
    const code = exit.code ?? 128 + (exit.signal ? SIGNAL_NUMBERS[exit.signal] ?? 0 : 0);
    if (code !== 0 && !(await exists(opts.pidFile))) throw await startError(opts.logFile, code);
    return code;
  }

  async #killUntilExit(id: string, exited: Promise<Exit>, killRunc: () => void): Promise<void> {
    let done = false;
    const settled = exited.then(() => { done = true; }, () => { done = true; });
    const deadline = Date.now() + KILL_GRACE_MS;
    while (!done) {
      // Fails until runc has created the container, and after it has stopped; both are fine to retry.
      await this.kill(id, "KILL").catch(() => undefined);
      if (Date.now() > deadline) killRunc();
      await Promise.race([settled, delay(KILL_RETRY_MS)]);
    }
  }

  /** `runc kill <id> <signal>`; rejects when the container does not exist or is not running. */
  async kill(id: string, signal: string): Promise<void> {
    await execFileP(this.#runc, ["--root", this.#stateRoot, "kill", id, signal]);
  }

  /** `runc delete --force <id>`: removes the container's state and cgroups; a missing container is fine. */
  async delete(id: string): Promise<void> {
    try {
      await execFileP(this.#runc, ["--root", this.#stateRoot, "delete", "--force", id]);
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? "");
      if (/does not exist|not exist/i.test(stderr)) return;
      throw new GantryError("Internal", `Cannot delete runc container ${id}: ${stderr.trim() || messageOf(err)}`,
        { cause: err });
    }
  }

  /**
   * Deletes container `id` only when runc still has state for it (`<stateRoot>/<id>`), so the usual case,
   * a `run` that cleaned up after itself, costs a stat rather than a process.
   */
  async deleteLeftover(id: string): Promise<void> {
    if (await exists(join(this.#stateRoot, id))) await this.delete(id);
  }

  /** Ids of the containers runc knows in our state root. */
  async list(): Promise<string[]> {
    const { stdout } = await execFileP(this.#runc, ["--root", this.#stateRoot, "list", "--format", "json"]);
    const parsed: unknown = JSON.parse(stdout.trim() || "null");
    if (!Array.isArray(parsed)) return [];
    return parsed.map((c: unknown) => String((c as { id?: unknown }).id));
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** The error for a container that never started, with runc's last logged error as the reason. */
async function startError(logFile: string, code: number): Promise<GantryError> {
  let reason = `runc exited with code ${code}`;
  try {
    for (const line of (await readFile(logFile, "utf8")).split("\n")) {
      if (!line.trim()) continue;
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (entry.level === "error" && typeof entry.msg === "string") reason = entry.msg;
    }
  } catch {
    // No log or a torn line: the exit code alone will have to do.
  }
  // A missing or non-executable command is the user's to fix; anything else is ours.
  const userFault = /unable to start container process: (exec|chdir)/.test(reason);
  return new GantryError(userFault ? "InvalidArgument" : "Internal", `Cannot start the container process: ${reason}`);
}
