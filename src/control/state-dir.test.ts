import assert from "node:assert/strict";
import { test } from "node:test";
import { access, chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resetTransientState } from "./state-dir.js";

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
