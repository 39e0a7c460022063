import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { GantryError } from "../../util/errors.js";
import { readDockerignore } from "../../util/pattern-matcher.js";
import { copy } from "./copy.js";
import { listTree, tempDir } from "./testing/fs-fixture.js";

function context(): string {
  const root = tempDir("gantry-ctx-");
  for (const f of [".hidden", "app.log", "build/out.o", "docs/readme.md", "docs/secret.md", "keep.log",
    "logs/deep/y.log", "logs/keep.txt", "logs/x.log", "notes.txt", "src/a/b/c.tmp", "src/a/b/ok.c", "src/a/temp.tmp",
    "src/main.c"]) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), f);
  }
  return root;
}

const paths = (root: string): string[] => listTree(root).map((l) => l.split(" ")[0]);

test("exclude patterns with `!` exceptions re-include files inside excluded dirs", async () => {
  const src = context();
  const dest = tempDir();
  const excludePatterns = readDockerignore(
    "# comment line\n*.log\n!keep.log\nlogs\n!logs/keep.txt\n**/*.tmp\nbuild/\ndocs/*\n!docs/readme.md\n.hidden\n");
  await copy(src, dest, { src: "/", dest: "/ctx/", dirCopyContents: true, createDestPath: true, excludePatterns });
  assert.deepEqual(paths(dest), ["/ctx", "/ctx/docs", "/ctx/docs/readme.md", "/ctx/keep.log", "/ctx/logs",
    "/ctx/logs/keep.txt", "/ctx/notes.txt", "/ctx/src", "/ctx/src/a", "/ctx/src/a/b", "/ctx/src/a/b/ok.c", "/ctx/src/main.c"]);
});

test("an excluded directory without exceptions is skipped whole", async () => {
  const src = context();
  const dest = tempDir();
  await copy(src, dest, { src: "/", dest: "/", dirCopyContents: true, excludePatterns: ["src", "logs", "docs", "build", "*.log"] });
  assert.deepEqual(paths(dest), ["/.hidden", "/notes.txt"]);
});

test("include patterns create only the parents of what they include", async () => {
  const src = context();
  const dest = tempDir();
  await copy(src, dest, { src: "/", dest: "/", dirCopyContents: true, includePatterns: ["src/*/b/*.c", "docs"] });
  assert.deepEqual(paths(dest), ["/docs", "/docs/readme.md", "/docs/secret.md", "/src", "/src/a", "/src/a/b", "/src/a/b/ok.c"]);
});

test("include and exclude combine: exclude wins", async () => {
  const src = context();
  const dest = tempDir();
  await copy(src, dest, { src: "/logs", dest: "/l", dirCopyContents: true, createDestPath: true,
    includePatterns: ["**/*.log"], excludePatterns: ["deep"] });
  assert.deepEqual(paths(dest), ["/l", "/l/x.log"]);
});

test("patterns are relative to the copied directory and bad ones are InvalidArgument", async () => {
  const src = context();
  const dest = tempDir();
  await copy(src, dest, { src: "/src/a", dest: "/out", dirCopyContents: true, createDestPath: true, excludePatterns: ["b"] });
  assert.deepEqual(paths(dest), ["/out", "/out/temp.tmp"]);
  await assert.rejects(copy(src, dest, { src: "/", dest: "/x", excludePatterns: ["a["] }),
    (err: unknown) => err instanceof GantryError && err.code === "InvalidArgument" && err.message.includes('"a["'));
});
