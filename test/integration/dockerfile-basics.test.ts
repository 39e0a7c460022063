// Upstream's tutorial examples through the Dockerfile frontend: scratch, an unused failing stage, and two
// independent stages that sleep concurrently. Built in-process, like a warm daemon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../../src/client/connect.js";
import type { Client } from "../../src/client/client.js";
import { requires } from "./helpers/requires.js";
import { rendezvous } from "./helpers/rendezvous.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;

async function context(dockerfile: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-df-"));
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

async function withClient(fn: (c: Client) => Promise<void>): Promise<void> {
  const c = await connect({ root: join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "dockerfile-basics-root") });
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

function dockerfileBuild(dir: string, out: string, extra: Record<string, string> = {}) {
  return {
    frontend: "dockerfile.v0",
    frontendAttrs: extra,
    locals: { context: dir, dockerfile: dir },
    exports: [{ type: "local", attrs: { dest: out } }],
  };
}

test("FROM scratch exports an empty directory", async (t) => {
  if (!requires(t, NEEDS)) return;
  await withClient(async (c) => {
    const dir = await context("FROM scratch\n");
    const out = join(dir, "out");
    await c.solve(dockerfileBuild(dir, out));
    assert.deepEqual(await readdir(out), []);
  });
});

test("a stage the target does not need is not built, even when it would fail", async (t) => {
  if (!requires(t, NEEDS)) return;
  await withClient(async (c) => {
    const dir = await context([
      "FROM localhost:5000/cf/busybox:1 AS broken",
      "RUN exit 1",
      "FROM localhost:5000/cf/busybox:1",
      "RUN echo ok > /ok",
    ].join("\n"));
    const out = join(dir, "out");
    await c.solve(dockerfileBuild(dir, out));
    assert.ok((await readdir(out)).includes("ok"));
  });
});

test("two independent stages run at the same time", async (t) => {
  if (!requires(t, NEEDS)) return;
  await withClient(async (c) => {
    const nonce = `${process.pid}-${Date.now()}`; // never answered by the persistent cache
    // Each stage waits in a shared cache mount for the other: built one after the other, the first gives up and fails.
    const meet = `--mount=type=cache,target=/rv,id=rv-${nonce},sharing=shared`;
    const dir = await context([
      "FROM localhost:5000/cf/busybox:1 AS a",
      `RUN ${meet} ${rendezvous("/rv", "a", "b")} && echo a ${nonce} > /a`,
      "FROM localhost:5000/cf/busybox:1 AS b",
      `RUN ${meet} ${rendezvous("/rv", "b", "a")} && echo b ${nonce} > /b`,
      "FROM localhost:5000/cf/busybox:1",
      "COPY --from=a /a /a",
      "COPY --from=b /b /b",
    ].join("\n"));
    await c.solve(dockerfileBuild(dir, join(dir, "out")));
    const out = await readdir(join(dir, "out"));
    assert.ok(out.includes("a") && out.includes("b"));
  });
});
