// Copy speed, measured against `cp -a` on the same machine so the bound holds on slow and fast disks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copy } from "./copy.js";
import { tempDir } from "./testing/fs-fixture.js";

const DIRS = 50;
const FILES_PER_DIR = 100;

test(`copying ${DIRS * FILES_PER_DIR} files is in cp -a's class`, async (t) => {
  const src = tempDir("gantry-speed-src-");
  const dest = tempDir("gantry-speed-dest-");
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(src, `d${d}/sub`), { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) {
      writeFileSync(join(src, `d${d}`, f % 2 ? "sub" : "", `f${f}.txt`), `file ${d} ${f}\n`.repeat(20));
    }
  }
  let t0 = performance.now();
  execFileSync("cp", ["-a", src, join(dest, "by-cp")]);
  const cpMs = performance.now() - t0;
  t0 = performance.now();
  // With a signal, as builds pass one: waiting on the limiter must not cost a listener per entry.
  await copy(src, dest, { src: "/", dest: "/by-gantry/", dirCopyContents: true, createDestPath: true,
    signal: new AbortController().signal });
  const ourMs = performance.now() - t0;
  let count = 0;
  for (const d of readdirSync(join(dest, "by-gantry"))) count += readdirSync(join(dest, "by-gantry", d)).length - 1 +
    readdirSync(join(dest, "by-gantry", d, "sub")).length;
  assert.equal(count, DIRS * FILES_PER_DIR);
  assert.equal(readFileSync(join(dest, "by-gantry/d7/sub/f33.txt"), "utf8"), "file 7 33\n".repeat(20));
  // Node sets times through a double, so they are kept to about a microsecond.
  const drift = statSync(join(dest, "by-gantry/d7/sub/f33.txt")).mtimeMs - statSync(join(src, "d7/sub/f33.txt")).mtimeMs;
  assert.ok(Math.abs(drift) < 0.001, `mtime drift ${drift} ms`);
  t.diagnostic(`copy ${ourMs.toFixed(0)} ms, cp -a ${cpMs.toFixed(0)} ms`);
  // Generous: this box's disk speed swings a lot; a sequential or quadratic copy still fails it.
  assert.ok(ourMs < 5 * cpMs + 5000, `copy took ${ourMs.toFixed(0)} ms, cp -a ${cpMs.toFixed(0)} ms`);
});
