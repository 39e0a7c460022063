// Runs the built `gantry` CLI as a user would, capturing its output.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../../bin/cli/main.js", import.meta.url));

export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export function runGantry(args: string[], opts: { stdin?: Uint8Array; env?: Record<string, string>; cwd?: string; signal?: AbortSignal } = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code, sig) => resolve({
      code: code ?? (sig ? 128 : 1),
      stdout: Buffer.concat(out),
      stderr: Buffer.concat(err).toString("utf8"),
      ms: Date.now() - started,
    }));
    child.stdin.end(opts.stdin ?? Buffer.alloc(0));
  });
}

/** Starts the CLI with `args` and SIGKILLs it after `ms` (a crash at that point); resolves when it is gone. */
export function runGantryAndKill(args: string[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
