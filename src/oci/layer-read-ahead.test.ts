import assert from "node:assert/strict";
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readAhead, readSmallFile, type LayerItem } from "./layer-read-ahead.js";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "read-ahead-"));
  await mkdir(join(dir, "b/inner"), { recursive: true });
  await mkdir(join(dir, "a"));
  await writeFile(join(dir, "b/inner/one"), "1");
  await writeFile(join(dir, "b/big"), Buffer.alloc(3000, 1));
  await writeFile(join(dir, "b/empty"), "");
  await writeFile(join(dir, "Z"), "upper case sorts first");
  await link(join(dir, "Z"), join(dir, "a/z-link"));
  await symlink("../Z", join(dir, "a/sym"));
  await writeFile(join(dir, "é"), "after ascii");
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function all(opts: Parameters<typeof readAhead>[2]): Promise<LayerItem[]> {
  const out: LayerItem[] = [];
  for await (const item of readAhead(dir, undefined, opts)) out.push(item);
  return out;
}

test("yields entries in byte order, depth first, with small files, links and symlink targets", async () => {
  const items = await all({ smallFile: 1024 });
  assert.deepEqual(items.map((i) => i.rel), ["Z", "a", "a/sym", "a/z-link", "b", "b/big", "b/empty", "b/inner", "b/inner/one", "é"]);
  const by = new Map(items.map((i) => [i.rel, i]));
  assert.equal(by.get("Z")?.data?.toString(), "upper case sorts first");
  assert.equal(by.get("a/z-link")?.linkTo, "Z");
  assert.equal(by.get("a/z-link")?.data, undefined, "a repeated inode is not read again");
  assert.equal(by.get("a/sym")?.linkTarget, "../Z");
  assert.equal(by.get("b/big")?.data, undefined, "files over smallFile are left to the writer");
  assert.equal(by.get("b/empty")?.data, undefined);
  assert.equal(by.get("b/inner/one")?.data?.toString(), "1");
  assert.equal(by.get("é")?.name, "é");
});

test("a window of one item gives the same sequence as a wide one", async () => {
  const narrow = await all({ maxItems: 1, maxBytes: 1 });
  const wide = await all({});
  assert.deepEqual(narrow.map((i) => [i.rel, i.data?.toString("hex"), i.linkTo, i.linkTarget]),
    wide.map((i) => [i.rel, i.data?.toString("hex"), i.linkTo, i.linkTarget]));
});

test("readSmallFile shows growth and shrinkage as a length different from the expected size", async () => {
  assert.equal((await readSmallFile(join(dir, "b/big"), 3000)).length, 3000);
  assert.equal((await readSmallFile(join(dir, "b/big"), 2000)).length, 2001);
  assert.equal((await readSmallFile(join(dir, "b/big"), 4000)).length, 3000);
  await assert.rejects(readSmallFile(join(dir, "missing"), 1), /ENOENT.*missing/);
});

test("a directory vanishing during the walk rejects naming it", async () => {
  const gone = join(dir, "gone");
  await assert.rejects(async () => {
    for await (const _ of readAhead(gone, undefined)) assert.fail("nothing to yield");
  }, /ENOENT.*gone/);
});
