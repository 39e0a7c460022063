import assert from "node:assert/strict";
import { appendFile, mkdtemp, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { codeOf } from "../util/errors.js";
import { produceLayerTar } from "./layer-tar-producer.js";
import { TAR_CHUNK, TarSink } from "./tar-sink.js";
import type { XattrMap } from "./xattr-reader.js";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tar-producer-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs the producer with the xattrs held back. Until they come it stats entries ahead, synchronously for a
 * small tree, so `meanwhile` changes a file between its lstat and its read.
 */
async function produceWith(root: string, meanwhile: () => Promise<void>): Promise<number> {
  const sink: TarSink = new TarSink(() => queueMicrotask(() => sink.ack()));
  let release: (m: XattrMap) => void = () => undefined;
  const xattrs = new Promise<XattrMap>((resolve) => (release = resolve));
  const names = await readdir(root);
  const run = produceLayerTar({ root, names, overlayWhiteouts: true }, sink, xattrs);
  run.catch(() => undefined); // awaited below
  await meanwhile();
  release(new Map());
  const entries = await run;
  await sink.finish();
  return entries;
}

test("a file that grew after its lstat is refused, small or larger than a chunk", async () => {
  for (const size of [100, 2 * TAR_CHUNK + 5]) {
    const root = await mkdtemp(join(dir, "grow-"));
    await writeFile(join(root, "f"), Buffer.alloc(size, 1));
    await assert.rejects(produceWith(root, () => appendFile(join(root, "f"), "more")), (err: unknown) => {
      assert.equal(codeOf(err), "FailedPrecondition");
      assert.match((err as Error).message, new RegExp(`Cannot write f of layer .*grow-.*changed size while being read \\(${size} → ${size + 1} bytes\\)`));
      return true;
    });
  }
});

test("a file that shrank after its lstat is refused", async () => {
  const root = await mkdtemp(join(dir, "shrink-"));
  await writeFile(join(root, "f"), Buffer.alloc(5000, 1));
  await assert.rejects(produceWith(root, () => truncate(join(root, "f"), 10)), /changed size while being read \(5000 → 10 bytes\)/);
});

test("an entry removed after the walk passed it is an error naming its path", async () => {
  const root = await mkdtemp(join(dir, "gone-"));
  await writeFile(join(root, "f"), "x");
  await assert.rejects(produceWith(root, () => rm(join(root, "f"))), (err: unknown) => {
    assert.equal((err as NodeJS.ErrnoException).code, "ENOENT");
    assert.match((err as Error).message, /gone-.*\/f'/);
    return true;
  });
});

test("an unchanged tree passes the same way", async () => {
  const root = await mkdtemp(join(dir, "same-"));
  await writeFile(join(root, "a"), Buffer.alloc(TAR_CHUNK - 512, 2)); // ends exactly at the first chunk's end
  await writeFile(join(root, "b"), "b");
  assert.equal(await produceWith(root, async () => undefined), 2);
});
