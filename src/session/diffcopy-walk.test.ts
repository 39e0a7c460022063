import { test } from "node:test";
import assert from "node:assert/strict";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSendWalk, walkForSend, type WalkOptions } from "./diffcopy-walk.js";

async function listing(root: string, opts: WalkOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const s of walkForSend(root, opts)) out.push(s.linkname ? `${s.path}->${s.linkname}` : s.path);
  return out;
}

function fixture(t: { after(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), "gantry-walk-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ["a/b/c", "a/z", "B", "a-"]) mkdirSync(join(root, d), { recursive: true });
  for (const f of ["a/b/c/f", "a/b/g", "a/z/h", "B/i", "a-/j", "k", "\u{1f600}", "\uff5e", "a.txt"]) writeFileSync(join(root, f), f);
  linkSync(join(root, "a/b/g"), join(root, "a/z/hard"));
  symlinkSync("a/b", join(root, "sym"));
  return root;
}

test("the walk lists depth-first in UTF-8 byte order, each directory before its entries", async (t) => {
  const root = fixture(t);
  assert.deepEqual(await listing(root), [
    "B", "B/i", "a", "a/b", "a/b/c", "a/b/c/f", "a/b/g", "a/z", "a/z/h", "a/z/hard->a/b/g",
    "a-", "a-/j", "a.txt", "k", "sym->a/b", "\uff5e", "\u{1f600}",
  ]);
});

test("held-back directories go out just before the first entry under them that matches", async (t) => {
  const root = fixture(t);
  assert.deepEqual(await listing(root, { include: ["a/b/c/f", "a/z/hard"] }), ["a", "a/b", "a/b/c", "a/b/c/f", "a/z", "a/z/hard"]);
  // The hard link's first occurrence was filtered out, so the later link is sent as a file of its own.
  assert.deepEqual(await listing(root, { exclude: ["a/b", "!a/b/c", "B", "*.txt", "\u{1f600}"] }), [
    "a", "a/b", "a/b/c", "a/b/c/f", "a/z", "a/z/h", "a/z/hard", "a-", "a-/j", "k", "sym->a/b", "\uff5e",
  ]);
});

test("the pull API yields the same entries, then undefined, and stops on abort", async (t) => {
  const root = fixture(t);
  const walk = await openSendWalk(root);
  const paths: string[] = [];
  for (let s = walk.next(); s; s = walk.next()) paths.push(s.path);
  assert.equal(paths.length, 17);
  assert.equal(walk.next(), undefined);
  const ac = new AbortController();
  const aborted = await openSendWalk(root, { signal: ac.signal });
  assert.equal(aborted.next()?.path, "B");
  ac.abort();
  assert.throws(() => {
    for (let s = aborted.next(); s; s = aborted.next()) void s;
  }, /cancel/i);
});
