// Runs one command, timing its wall clock, with its output going to a log file (never to memory: some
// builders print a lot). A command that outlives its timeout is killed with its whole process group.
import { spawn } from "node:child_process";
import { mkdirSync, openSync, closeSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Runs `argv` and resolves to `{ seconds, code, log }` (log = path of the combined stdout/stderr).
 * Rejects with the log's last lines when the command fails, unless `allowFail`.
 */
export function runTimed(argv, { env, cwd, log, timeoutSec = 600, allowFail = false } = {}) {
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, "w");
  const start = process.hrtime.bigint();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd, env: { ...process.env, ...env }, stdio: ["ignore", fd, fd], detached: true,
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutSec * 1000);
    const finish = (code, err) => {
      clearTimeout(timer);
      closeSync(fd);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if ((code === 0 && !err) || allowFail) {
        resolvePromise({ seconds, code: err ? -1 : code, log });
        return;
      }
      const why = err ? err.message : code === null ? `killed after ${timeoutSec} s` : `exit status ${code}`;
      reject(new Error(`${argv.join(" ")} failed (${why}):\n${tail(log, 12)}`));
    };
    child.on("error", (err) => finish(null, err));
    child.on("close", (code) => finish(code, null));
  });
}

/** The last `n` non-empty lines of a file, for error messages. */
export function tail(path, n) {
  try {
    return readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").slice(-n).join("\n");
  } catch {
    return "(no output)";
  }
}

/** Runs a short command and returns its trimmed stdout, or undefined when it fails. */
export function capture(argv, env) {
  return new Promise((resolvePromise) => {
    let out = "";
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      resolvePromise(undefined);
      return;
    }
    child.stdout.on("data", (d) => { out += d; });
    child.on("error", () => resolvePromise(undefined));
    child.on("close", (code) => resolvePromise(code === 0 ? out.trim() : undefined));
  });
}
