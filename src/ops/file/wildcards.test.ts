import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isNotFound } from "../../util/errors.js";
import { containsWildcards, resolveWildcards, splitWildcards } from "./wildcards.js";
import { tempDir } from "./testing/fs-fixture.js";

test("splitWildcards splits at the first wildcard component; escapes do not count", () => {
  assert.deepEqual(splitWildcards("/a/b*/c"), { head: "/a", tail: "b*/c" });
  assert.deepEqual(splitWildcards("/a/b/c"), { head: "/a/b/c", tail: "" });
  assert.deepEqual(splitWildcards("/*.txt"), { head: "/", tail: "*.txt" });
  assert.deepEqual(splitWildcards("/x/[ab]1.txt/"), { head: "/x", tail: "[ab]1.txt" });
  assert.equal(containsWildcards("a\\*b"), false);
  assert.equal(containsWildcards("a?"), true);
});

test("resolveWildcards lists matches in lexical order without descending into matches", async () => {
  const root = tempDir();
  for (const f of ["b1.txt", "a2.txt", "a1.txt", "c.md", "dir1/x.txt", "dir2/deeper/z.txt", "sub/a1.txt"]) {
    mkdirSync(join(root, f, ".."), { recursive: true });
    writeFileSync(join(root, f), f);
  }
  assert.deepEqual(await resolveWildcards(root, "/*.txt", false), ["/a1.txt", "/a2.txt", "/b1.txt"]);
  assert.deepEqual(await resolveWildcards(root, "/a?.txt", false), ["/a1.txt", "/a2.txt"]);
  assert.deepEqual(await resolveWildcards(root, "/[ab]1.txt", false), ["/a1.txt", "/b1.txt"]);
  assert.deepEqual(await resolveWildcards(root, "/dir*", false), ["/dir1", "/dir2"]);
  assert.deepEqual(await resolveWildcards(root, "/*/a1.txt", false), ["/sub/a1.txt"]);
  assert.deepEqual(await resolveWildcards(root, "/*.none", false), []);
  assert.deepEqual(await resolveWildcards(root, "/no/wildcard/", false), ["/no/wildcard"]);
});

test("the fixed head is resolved inside the root; a missing head is NotFound", async () => {
  const root = tempDir();
  mkdirSync(join(root, "real"));
  writeFileSync(join(root, "real/f.txt"), "");
  symlinkSync("/real", join(root, "link"));
  assert.deepEqual(await resolveWildcards(root, "/link/*.txt", true), ["/real/f.txt"]);
  assert.deepEqual(await resolveWildcards(root, "/link/*.txt", false), []);
  assert.deepEqual(await resolveWildcards(root, "/link/x/../../../*.txt", false), []);
  await assert.rejects(resolveWildcards(root, "/missing/*.txt", false), (err: unknown) => isNotFound(err));
});
