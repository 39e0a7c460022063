import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtemp, rm, writeFile, utimes, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contentChecksum, registerChecksumMemo, type ChecksumMemo, type FileSum } from "./content-checksum.js";

function memoryMemo(files: Map<string, { sig: string; digest: string }>): ChecksumMemo & { answers: Map<string, string> } {
  const answers = new Map<string, string>();
  return {
    answers,
    get: (q) => answers.get(q),
    set: (q, d) => void answers.set(q, d),
    files: {
      get: (p) => files.get(p),
      setMany: (rows: readonly FileSum[]) => {
        for (const r of rows) files.set(r.path, { sig: r.sig, digest: r.digest });
      },
    },
  };
}

test("times do not change a checksum; content, mode and names do", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "cs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "d"));
  await writeFile(join(dir, "d/f"), "one");
  const first = await contentChecksum(dir, "/");
  await utimes(join(dir, "d/f"), new Date(1000), new Date(1000));
  assert.equal(await contentChecksum(dir, "/"), first);
  await writeFile(join(dir, "d/f"), "two");
  assert.notEqual(await contentChecksum(dir, "/"), first);
});

test("a registered memo answers repeated queries and reuses file sums whose stat matches", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "cs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "a"), "a");
  await writeFile(join(dir, "b"), "b");
  const files = new Map<string, { sig: string; digest: string }>();
  const memo = memoryMemo(files);
  const unregister = registerChecksumMemo(dir, memo);
  await contentChecksum(dir, "/b");
  const full = await contentChecksum(dir, "/");
  assert.equal(memo.answers.size, 2);
  assert.deepEqual([...files.keys()].sort(), ["/a", "/b"]);
  // A stale entry with the right signature is believed (that is the point); a changed file is rehashed.
  const sigA = files.get("/a")!.sig;
  const digestB = files.get("/b")!.digest;
  files.set("/a", { sig: sigA, digest: "remembered" });
  memo.answers.clear();
  await writeFile(join(dir, "b"), "B!");
  const next = await contentChecksum(dir, "/");
  assert.notEqual(next, full);
  assert.notEqual(files.get("/b")!.digest, digestB, "b was rehashed");
  assert.equal(files.get("/a")!.digest, "remembered", "a was not");
  unregister();
  memo.answers.clear();
  const unmemoized = await contentChecksum(dir, "/");
  assert.notEqual(unmemoized, next, "without the memo, /a is hashed from its bytes again");
  assert.equal(memo.answers.size, 0, "unregistered: the memo is not used");
});

test("a wide tree: every file counts, small or streamed, and remembered sums answer unchanged files", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "cs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // More entries than one stat slice, and files on both sides of the one-read size limit.
  for (let d = 0; d < 3; d++) {
    await mkdir(join(dir, `d${d}`));
    for (let f = 0; f < 200; f++) await writeFile(join(dir, `d${d}`, `f${f}`), `${d}/${f}`);
  }
  await writeFile(join(dir, "big"), Buffer.alloc(200 * 1024, 7));
  const plain = await contentChecksum(dir, "/");
  const files = new Map<string, { sig: string; digest: string }>();
  const memo = memoryMemo(files);
  const unregister = registerChecksumMemo(dir, memo);
  t.after(unregister);
  assert.equal(await contentChecksum(dir, "/"), plain, "the memo does not change the answer");
  assert.equal(files.size, 601);
  // Remembered sums are believed while the stat matches: a planted digest shows they were used.
  const planted = files.get("/d1/f5")!;
  files.set("/d1/f5", { sig: planted.sig, digest: "planted" });
  memo.answers.clear();
  const withPlanted = await contentChecksum(dir, "/");
  assert.notEqual(withPlanted, plain);
  files.set("/d1/f5", planted);
  for (const [path, change] of [["d2/f199", "changed"], ["big", Buffer.alloc(200 * 1024, 8)]] as const) {
    memo.answers.clear();
    const before = await contentChecksum(dir, "/");
    await writeFile(join(dir, path), change);
    memo.answers.clear();
    assert.notEqual(await contentChecksum(dir, "/"), before, `a change to ${path} changes the checksum`);
  }
});
