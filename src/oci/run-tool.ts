// Spawning the small external tools layer and snapshot code relies on (tar, cp, setfattr, du). Node has
// no mknod(2)/setxattr(2)/mount(2), and GNU tar or cp do bulk file work far faster than per-file awaits.
import { spawn, type ChildProcess } from "node:child_process";
import { canceledError, GantryError } from "../util/errors.js";

export interface RunToolOptions {
  cwd?: string;
  /** Written to the tool's stdin, then stdin is closed. Without it stdin is ignored (unless `pipeStdin`). */
  input?: string | Uint8Array;
  /** Leave stdin as a pipe for the caller to write (for streaming into the tool). */
  pipeStdin?: boolean;
  /** Leave stdout as a pipe for the caller to read; `done` then resolves to "". */
  pipeStdout?: boolean;
  signal?: AbortSignal;
}

export interface RunningTool {
  child: ChildProcess;
  /** Resolves to stdout (when not piped) on exit 0; rejects Internal with the tool's stderr, or Canceled. */
  done: Promise<string>;
}

const STDERR_LIMIT = 16 * 1024;

/** Starts `cmd args`; the caller wires pipes through `child` and awaits `done`. */
export function startTool(cmd: string, args: readonly string[], opts: RunToolOptions = {}): RunningTool {
  const stdin = opts.input !== undefined || opts.pipeStdin ? "pipe" : "ignore";
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: [stdin, "pipe", "pipe"], signal: opts.signal });
  const out: Buffer[] = [];
  let err = "";
  if (!opts.pipeStdout) child.stdout?.on("data", (c: Buffer) => out.push(c));
  child.stderr?.on("data", (c: Buffer) => {
    if (err.length < STDERR_LIMIT) err += c.toString("utf8");
  });
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  const done = new Promise<string>((resolve, reject) => {
    child.once("error", (e) => {
      if (opts.signal?.aborted) reject(canceledError(opts.signal));
      else reject(new GantryError("Internal", `Cannot run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.once("close", (code, sig) => {
      if (opts.signal?.aborted) return reject(canceledError(opts.signal));
      if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
      const why = err.trim() || (sig ? `killed by ${sig}` : `exit code ${code}`);
      reject(new GantryError("Internal", `Command ${cmd} ${args.slice(0, 6).join(" ")} failed: ${why}`));
    });
  });
  return { child, done };
}

/** Runs `cmd args` to completion and returns its stdout. */
export function runTool(cmd: string, args: readonly string[], opts: RunToolOptions = {}): Promise<string> {
  return startTool(cmd, args, opts).done;
}

/** Splits `items` into argument batches that stay well under the kernel's argv size limit. */
export function argBatches(items: readonly string[], maxBytes = 96 * 1024): string[][] {
  const batches: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const it of items) {
    if (cur.length > 0 && bytes + it.length + 1 > maxBytes) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += Buffer.byteLength(it) + 1;
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}
