import { test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeDir } from "./remove-dir.js";

const gone = (p: string): Promise<boolean> => access(p).then(() => false, () => true);

test("removeDir removes an empty dir, its expected empty subdirs, and falls back for anything else", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-remove-dir-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, "a"));
  await removeDir(join(root, "a"));
  assert.ok(await gone(join(root, "a")));

  await mkdir(join(root, "w", "work"), { recursive: true });
  await removeDir(join(root, "w"), ["work"]);
  assert.ok(await gone(join(root, "w")));

  await mkdir(join(root, "full", "work", "deeper"), { recursive: true });
  await writeFile(join(root, "full", "file"), "x");
  await removeDir(join(root, "full"), ["work"]);
  assert.ok(await gone(join(root, "full")), "unexpected content is removed recursively");

  await removeDir(join(root, "never-there"), ["work"]);
});
