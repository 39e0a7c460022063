import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diskUsage, walkUsage } from "./disk-usage.js";

function du(args: string[], dir: string): number {
  return Number.parseInt(execFileSync("du", ["-s", "-x", ...args, dir], { encoding: "utf8" }), 10);
}

test("diskUsage agrees with du on bytes and inodes, counting hardlinks once", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-du-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (let i = 0; i < 30; i++) {
    const sub = join(dir, `d${i % 5}`, `e${i % 3}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `f${i}`), "x".repeat(i * 700));
  }
  await writeFile(join(dir, "big"), Buffer.alloc(200_000, 1));
  await link(join(dir, "big"), join(dir, "d0", "big-link"));
  await symlink("big", join(dir, "sym"));
  const want = { size: du(["-B1"], dir), inodes: du(["--inodes"], dir) };
  assert.deepEqual(await walkUsage(dir, 1000), want);
  assert.deepEqual(await diskUsage(dir), want);
});

test("a tree past the in-process limit is measured by du with the same result", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-du-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (let i = 0; i < 20; i++) {
    await mkdir(join(dir, `d${i}`));
    await Promise.all(Array.from({ length: 30 }, (_, j) => writeFile(join(dir, `d${i}`, `f${j}`), `${i}-${j}\n`)));
  }
  await assert.rejects(walkUsage(dir, 100), (err: unknown) => err instanceof Error && !("code" in err));
  assert.deepEqual(await diskUsage(dir), { size: du(["-B1"], dir), inodes: du(["--inodes"], dir) });
});

test("diskUsage of a missing directory is NotFound-like (ENOENT) and of a file is the file", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-du-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(diskUsage(join(dir, "missing")), /ENOENT/);
  await writeFile(join(dir, "f"), "x".repeat(10_000));
  assert.deepEqual(await diskUsage(join(dir, "f")), { size: du(["-B1"], join(dir, "f")), inodes: 1 });
});
