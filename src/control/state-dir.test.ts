import assert from "node:assert/strict";
import { test } from "node:test";
import { access, chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { lockStateDir, resetTransientState } from "./state-dir.js";

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

test("resetTransientState asks runc only when its root holds containers, and clears transient dirs", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-state-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  // A stand-in `runc` first on PATH records each call.
  const bin = join(root, "bin");
  const calls = join(root, "runc-calls");
  await mkdir(bin);
  await writeFile(join(bin, "runc"), `#!/bin/sh\necho "$@" >> ${calls}\n`);
  await chmod(join(bin, "runc"), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path ?? ""}`;
  t.after(() => {
    process.env.PATH = path;
  });
  const state = join(root, "state");
  const runcRoot = join(state, "executor", "runc");

  await mkdir(join(state, "tmp", "left-over"), { recursive: true });
  await resetTransientState(state, runcRoot);
  assert.equal(await exists(calls), false, "no runc root: runc is not spawned");
  assert.equal(await exists(join(state, "tmp")), false, "tmp is cleared");

  await mkdir(runcRoot, { recursive: true });
  await resetTransientState(state, runcRoot);
  assert.equal(await exists(calls), false, "an empty runc root: runc is not spawned");

  await mkdir(join(runcRoot, "ctr1"), { recursive: true });
  await resetTransientState(state, runcRoot);
  assert.equal(await exists(calls), true, "a container's state dir: runc is asked");
  assert.equal(await exists(join(state, "executor")), false, "the executor dir is cleared");
});

/** Runs `lockStateDir` in a child process with `body` (a module snippet) run while the lock is held. */
function lockInChild(root: string, body: string): ChildProcess {
  const mod = new URL("./state-dir.js", import.meta.url).href;
  const code = `import { lockStateDir } from ${JSON.stringify(mod)};
    const unlock = await lockStateDir(${JSON.stringify(root)});
    ${body}
    await unlock();`;
  return spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
}

const exitOf = (child: ChildProcess): Promise<number | null> => new Promise((r) => child.on("exit", (code) => r(code)));

test("processes racing for the lock hold it one at a time", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-lock-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  // Each holder creates `inside` exclusively, yields a few times, and removes it: two holders at once fail.
  const inside = JSON.stringify(join(root, "inside"));
  const body = `const { open, rm } = await import("node:fs/promises");
    const fh = await open(${inside}, "wx").catch(() => { console.log("overlap"); process.exit(3); });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await fh.close();
    await rm(${inside});`;
  const children = Array.from({ length: 6 }, () => lockInChild(root, body));
  const codes = await Promise.all(children.map(exitOf));
  assert.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
});

test("a lock holder killed with SIGKILL leaves nothing that blocks the next process", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-lock-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const holder = lockInChild(root, `console.log("held"); await new Promise(() => setInterval(() => undefined, 1000));`);
  t.after(() => holder.kill("SIGKILL"));
  await new Promise<void>((resolve) => holder.stdout?.once("data", () => resolve()));
  // The pid file is only a note: a holder is not displaced when it is empty, as it is for a moment while
  // a new holder writes it (the old pid-file lock took such a lock over as stale).
  await writeFile(join(root, "lock"), "");
  const early = new AbortController();
  await assert.rejects(lockStateDir(root, { signal: early.signal, onWait: () => early.abort() }),
    (err: unknown) => (err as { code?: string }).code === "Canceled");
  await writeFile(join(root, "lock"), String(holder.pid));
  const waits: number[] = [];
  // Held: a try from here waits and names the holder's pid.
  const ac = new AbortController();
  const blocked = lockStateDir(root, { signal: ac.signal, onWait: (pid) => { waits.push(pid); ac.abort(); } });
  await assert.rejects(blocked, (err: unknown) => (err as { code?: string }).code === "Canceled");
  assert.deepEqual(waits, [holder.pid]);
  holder.kill("SIGKILL");
  await exitOf(holder);
  const unlock = await lockStateDir(root);
  await unlock();
});
