import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { codeCacheFile, compileCommonJs, loadCommonJs, readCodeCache, writeCodeCache } from "./code-cache.js";

const BUNDLE = `#!/usr/bin/env node
"use strict";
const path = require("node:path");
let calls = 0;
function work(n) { calls++; let s = 0; for (let i = 0; i < n; i++) s += i; return s; }
module.exports = { sum: work(10), name: path.basename(__filename), dir: __dirname, strict: (function () { return this; })() === undefined,
  self: this === module.exports, calls: () => calls };
`;

let dir = "";
// tsx runs tests with source maps on, which makes loadCommonJs hand over to require (see its doc).
const mapsWereOn = process.sourceMapsEnabled;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "gantry-code-cache-"));
  process.setSourceMapsEnabled(false);
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  process.setSourceMapsEnabled(mapsWereOn);
});

function bundleAt(name: string, source = BUNDLE): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

function exportsOf(loaded: { exports: unknown }): Record<string, unknown> {
  assert.equal(typeof loaded.exports, "object");
  return loaded.exports as Record<string, unknown>;
}

test("loadCommonJs runs a bundle as Node's CommonJS loader would", () => {
  const file = bundleAt("plain.cjs");
  const loaded = loadCommonJs(file);
  assert.equal(loaded.cache, "off");
  const m = exportsOf(loaded);
  assert.equal(m.sum, 45);
  assert.equal(m.name, "plain.cjs");
  assert.equal(m.dir, dir);
  assert.equal(m.strict, true);
  assert.equal(m.self, true);
});

test("a cache written for a bundle is accepted by V8 and gives the same exports", () => {
  const file = bundleAt("cached.cjs");
  const cacheFile = codeCacheFile(file, "ab".repeat(32));
  assert.equal(loadCommonJs(file, { cacheFile }).cache, "absent");
  writeCodeCache(cacheFile, file, compileCommonJs(file).createCachedData());
  const loaded = loadCommonJs(file, { cacheFile });
  assert.equal(loaded.cache, "accepted");
  assert.equal(exportsOf(loaded).sum, 45);
});

test("the cache file name carries the bundle hash, the V8 version and the architecture", () => {
  const name = codeCacheFile("/x/commands.cjs", "0123456789abcdef0123");
  assert.equal(name, `/x/commands.cjs.0123456789abcdef.v8-${process.versions.v8}-${process.arch}.cache`);
  assert.notEqual(codeCacheFile("/x/commands.cjs", "1123456789abcdef"), name);
});

test("a damaged cache is not handed to V8 and the bundle loads uncached", () => {
  const file = bundleAt("damaged.cjs");
  const cacheFile = codeCacheFile(file, "cd".repeat(32));
  writeCodeCache(cacheFile, file, compileCommonJs(file).createCachedData());
  const raw = readFileSync(cacheFile);
  raw[raw.length - 10] ^= 0xff;
  writeFileSync(cacheFile, raw);
  assert.equal(readCodeCache(cacheFile, file), undefined);
  const loaded = loadCommonJs(file, { cacheFile });
  assert.equal(loaded.cache, "absent");
  assert.equal(exportsOf(loaded).sum, 45);
  writeFileSync(cacheFile, raw.subarray(0, 20));
  assert.equal(loadCommonJs(file, { cacheFile }).cache, "absent");
});

test("a cache made for the bundle at another path is not used", () => {
  const file = bundleAt("here.cjs");
  const cacheFile = codeCacheFile(file, "ef".repeat(32));
  writeCodeCache(cacheFile, file, compileCommonJs(file).createCachedData());
  mkdirSync(join(dir, "moved"));
  const moved = join(dir, "moved", "here.cjs");
  copyFileSync(file, moved);
  const movedCache = codeCacheFile(moved, "ef".repeat(32));
  copyFileSync(cacheFile, movedCache);
  assert.equal(loadCommonJs(moved, { cacheFile: movedCache }).cache, "absent");
  assert.equal(loadCommonJs(file, { cacheFile }).cache, "accepted");
});

test("V8 rejects a cache made from other source, and the bundle still loads", () => {
  const file = bundleAt("edited.cjs");
  const cacheFile = codeCacheFile(file, "12".repeat(32));
  writeCodeCache(cacheFile, file, compileCommonJs(file).createCachedData());
  bundleAt("edited.cjs", `${BUNDLE}module.exports.extra = 1;\n`);
  const loaded = loadCommonJs(file, { cacheFile });
  assert.equal(loaded.cache, "rejected");
  assert.equal(exportsOf(loaded).extra, 1);
});

test("with source maps enabled the bundle loads through require, uncached", () => {
  const file = bundleAt("mapped.cjs");
  const cacheFile = codeCacheFile(file, "34".repeat(32));
  writeCodeCache(cacheFile, file, compileCommonJs(file).createCachedData());
  process.setSourceMapsEnabled(true);
  try {
    const loaded = loadCommonJs(file, { cacheFile });
    assert.equal(loaded.cache, "off");
    assert.equal(exportsOf(loaded).sum, 45);
  } finally {
    process.setSourceMapsEnabled(false);
  }
});

/** Runs a child that loads `file` with writeOnExit and calls one of its functions after the load. */
function runWriter(file: string, cacheFile: string): { status: number | null; stderr: string } {
  // Under tsx this test runs from src/ (.ts), in CI from dist/ (.js): the child imports the same flavour.
  const ts = import.meta.url.endsWith(".ts");
  const script = join(dir, `writer-${Math.random().toString(36).slice(2)}.${ts ? "mts" : "mjs"}`);
  writeFileSync(script, `import { loadCommonJs } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, ts ? "code-cache.ts" : "code-cache.js")).href)};
process.setSourceMapsEnabled(false);
const r = loadCommonJs(${JSON.stringify(file)}, { cacheFile: ${JSON.stringify(cacheFile)}, writeOnExit: true });
process.stdout.write(r.cache + " " + r.exports.calls());
`);
  const r = spawnSync(process.execPath, [...process.execArgv, script], { encoding: "utf8" });
  return { status: r.status, stderr: `${r.stdout}|${r.stderr}` };
}

test("writeOnExit writes a cache at exit that the next load accepts", () => {
  const file = bundleAt("exit.cjs");
  const cacheFile = codeCacheFile(file, "56".repeat(32));
  const first = runWriter(file, cacheFile);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /^absent 1\|/);
  assert.ok(readCodeCache(cacheFile, file) !== undefined);
  const second = runWriter(file, cacheFile);
  assert.match(second.stderr, /^accepted 1\|/);
});

test("a cache that cannot be written is reported, and the process still exits cleanly", () => {
  const file = bundleAt("nowhere.cjs");
  const cacheFile = join(dir, "no-such-dir", "nowhere.cache");
  const r = runWriter(file, cacheFile);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /could not write the code cache .*no-such-dir/);
});
