import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImmutableRef } from "../cache/ref-manager.js";
import { local, marshalDefinition } from "../llb/state.js";
import { createWhiteouts } from "../oci/overlay-whiteouts.js";
import type { OpDeps } from "../ops/op-deps.js";
import { WorkerRef } from "../ops/worker-ref.js";
import type { BuildSession } from "../session/build-session.js";
import type { Solver } from "../solver/solver.js";
import type { LlbPayload } from "../ops/llb-graph.js";
import { codeOf } from "../util/errors.js";
import { EngineBridge } from "./frontend-bridge.js";

/**
 * A bridge whose every solve yields one ref with the given layers; counts read-only mounts (a mount
 * "shows" the top layer's files through `mountDir`).
 */
function bridgeOver(layers: string[], mountDir: string, kind: "overlay" | "copy" = "overlay"): { bridge: EngineBridge; mounts: () => number } {
  let mounts = 0;
  const ref = { id: "r1", release: async () => undefined, clone: () => ref } as unknown as ImmutableRef;
  const refs = {
    layers: async () => layers.map((path) => ({ path })),
    mountReadonly: async () => {
      mounts++;
      return { dir: mountDir, release: async () => undefined };
    },
  };
  const solver = { solve: async () => new WorkerRef(ref) } as unknown as Solver<LlbPayload, WorkerRef>;
  const bridge = new EngineBridge({
    solver,
    deps: { refs, snapshotterKind: kind } as unknown as OpDeps,
    build: { session: { id: "s1" } as unknown as BuildSession, platform: { os: "linux", architecture: "amd64" }, entitlements: new Set() },
    progress: () => undefined,
    noCache: false,
  });
  return { bridge, mounts: () => mounts };
}

async function withTree(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bridge-test-"));
  try {
    await mkdir(join(dir, "layer", "sub"), { recursive: true });
    await writeFile(join(dir, "layer", "Dockerfile"), "FROM scratch\n");
    await writeFile(join(dir, "layer", "sub", "a.txt"), "abc");
    await symlink("sub/a.txt", join(dir, "layer", "link"));
    await mkdir(join(dir, "mounted"));
    await writeFile(join(dir, "mounted", "Dockerfile"), "FROM mounted\n");
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const def = marshalDefinition(local("dockerfile"));

test("a one-layer overlay result is read in place, without a mount", async () => {
  await withTree(async (dir) => {
    const { bridge, mounts } = bridgeOver([join(dir, "layer")], join(dir, "mounted"));
    const ref = await bridge.solve(def);
    assert.equal(new TextDecoder().decode(await bridge.readFile(ref, "Dockerfile")), "FROM scratch\n");
    assert.equal(new TextDecoder().decode(await bridge.readFile(ref, "/link")), "abc");
    assert.equal(new TextDecoder().decode(await bridge.readFile(ref, "sub/a.txt", { offset: 1, length: 5 })), "bc");
    assert.deepEqual((await bridge.readDir(ref, "/")).map((s) => s.path), ["Dockerfile", "link", "sub"]);
    assert.equal((await bridge.statFile(ref, "link")).linkname, "sub/a.txt");
    await assert.rejects(bridge.readFile(ref, "Dockerfile.dockerignore"), (err: unknown) => codeOf(err) === "NotFound");
    await assert.rejects(bridge.readFile(ref, "Dockerfile/x"), (err: unknown) => codeOf(err) === "NotFound");
    // A directory where a file is wanted (a .dockerignore that is a directory) is a sentence naming it.
    await assert.rejects(bridge.readFile(ref, "sub"), (err: unknown) => codeOf(err) === "InvalidArgument" &&
      (err as Error).message === "Cannot read sub: it is a directory, not a file.");
    assert.equal(mounts(), 0);
  });
});

test("whiteouts in a lone layer read as missing, as they do through the mount", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("creating a whiteout (a 0/0 device) needs root");
  await withTree(async (dir) => {
    await createWhiteouts(join(dir, "layer"), ["gone", "sub/b.txt"]);
    const { bridge } = bridgeOver([join(dir, "layer")], join(dir, "mounted"));
    const ref = await bridge.solve(def);
    await assert.rejects(bridge.readFile(ref, "gone"), (err: unknown) => codeOf(err) === "NotFound");
    await assert.rejects(bridge.statFile(ref, "sub/b.txt"), (err: unknown) => codeOf(err) === "NotFound");
    assert.deepEqual((await bridge.readDir(ref, "sub")).map((s) => s.path), ["a.txt"]);
  });
});

test("several layers, or the copy snapshotter, go through a read-only mount", async () => {
  await withTree(async (dir) => {
    for (const [layers, kind] of [[[join(dir, "layer"), join(dir, "layer")], "overlay"], [[join(dir, "layer")], "copy"]] as const) {
      const { bridge, mounts } = bridgeOver([...layers], join(dir, "mounted"), kind);
      const ref = await bridge.solve(def);
      assert.equal(new TextDecoder().decode(await bridge.readFile(ref, "Dockerfile")), "FROM mounted\n");
      assert.equal(mounts(), 1);
    }
  });
});
