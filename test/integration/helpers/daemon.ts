// Starts a real gantryd for a test and stops it afterwards.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const GANTRYD = fileURLToPath(new URL("../../../bin/daemon/main.js", import.meta.url));

export interface RunningDaemon {
  proc: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

export async function startDaemon(args: string[]): Promise<RunningDaemon> {
  const proc = spawn(process.execPath, [GANTRYD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 15_000;
  while (!out.includes("gantryd listening")) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`gantryd did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    log: () => out,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}
