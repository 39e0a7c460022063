// Upstream's tutorial examples through the Dockerfile frontend: scratch, an unused failing stage, and two
// independent stages that sleep concurrently. Built in-process, like a warm daemon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../../src/client/connect.js";
import type { Client } from "../../src/client/client.js";
import type { ProgressEvent } from "../../src/util/progress-event.js";
import { requires } from "./helpers/requires.js";

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

test("two independent stages with RUN sleep 1 finish in under 1.8 s", async (t) => {
  if (!requires(t, NEEDS)) return;
  await withClient(async (c) => {
    const warm = await context("FROM localhost:5000/cf/busybox:1\nRUN true\n");
    await c.solve(dockerfileBuild(warm, join(warm, "out")));
    const nonce = `${process.pid}-${Date.now()}`; // never answered by the persistent cache
    const dir = await context([
      "FROM localhost:5000/cf/busybox:1 AS a",
      `RUN sleep 1 && echo a ${nonce} > /a`,
      "FROM localhost:5000/cf/busybox:1 AS b",
      `RUN sleep 1 && echo b ${nonce} > /b`,
      "FROM localhost:5000/cf/busybox:1",
      "COPY --from=a /a /a",
      "COPY --from=b /b /b",
    ].join("\n"));
    const events: ProgressEvent[] = [];
    const started = Date.now();
    await c.solve({ ...dockerfileBuild(dir, join(dir, "out")), onProgress: (e) => events.push(e) });
    const took = Date.now() - started;
    assert.ok(took < 1800, `took ${took} ms`);
    assert.ok(took >= 1000, `the sleeps must have run (took ${took} ms)`);
    const out = await readdir(join(dir, "out"));
    assert.ok(out.includes("a") && out.includes("b"));
  });
});
