#!/usr/bin/env node
// Writes the 20,000-file, 80 MiB build context into DIR (argument), deterministically: 100 folders of 200
// files, sizes between 1 KiB and ~7.2 KiB that add up to exactly 80 MiB, contents from a fixed seed (half
// incompressible, half text). Idempotent: a stamp file beside DIR makes a second call a no-op.
//   node bench/scenarios/context20k/generate.mjs DIR
//   node bench/scenarios/context20k/generate.mjs DIR --touch N   (rewrite one file with content N: the
//                                                                 "one file changed" edit)
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { fillRandom, fillText, makeRng } from "../../lib/prng.mjs";

const FILES = 20_000;
const PER_DIR = 200;
const TOTAL = 80 * 1024 * 1024;
const STAMP_SUFFIX = ".context20k-v1.stamp"; // beside DIR, so the context holds exactly 20,000 files
/** The file the one-file-changed phase rewrites (same size, new bytes). */
export const CHANGED_FILE = join("d042", "f0117.dat");

function sizes() {
  const rng = makeRng(20_000);
  const out = [];
  let sum = 0;
  for (let i = 0; i < FILES; i++) {
    const s = 1024 + (rng.next() % 6341); // mean 4194 bytes = 80 MiB / 20,000
    out.push(s);
    sum += s;
  }
  // Spread the rounding difference so the total is exactly 80 MiB.
  let diff = TOTAL - sum;
  for (let i = 0; diff !== 0; i = (i + 1) % FILES) {
    const step = Math.sign(diff) * Math.min(Math.abs(diff), 64);
    if (out[i] + step >= 512) {
      out[i] += step;
      diff -= step;
    }
  }
  return out;
}

/** Makes the context in `dir` unless its stamp is there; true when it wrote it. */
export function generate(dir) {
  if (existsSync(dir + STAMP_SUFFIX)) return false;
  rmSync(dir, { recursive: true, force: true });
  const rng = makeRng(80);
  const sz = sizes();
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, `d${String(Math.floor(i / PER_DIR)).padStart(3, "0")}`);
    if (i % PER_DIR === 0) mkdirSync(sub, { recursive: true });
    const buf = Buffer.allocUnsafe(sz[i]);
    (i % 2 === 0 ? fillRandom : fillText)(buf, rng);
    writeFileSync(join(sub, `f${String(i % PER_DIR).padStart(4, "0")}.dat`), buf);
  }
  writeFileSync(dir + STAMP_SUFFIX, `${FILES} files, ${TOTAL} bytes\n`);
  return true;
}

/**
 * Rewrites CHANGED_FILE with bytes derived from `n`, keeping its size. The bytes always differ from the
 * file's current ones: an earlier run may have left exactly the content `n` would give, and then the
 * "changed" build would rightly be all CACHED.
 */
export function touch(dir, n) {
  const p = join(dir, CHANGED_FILE);
  const current = readFileSync(p);
  for (let seed = 1_000_003 + n; ; seed += 7_919) {
    const next = fillText(Buffer.allocUnsafe(current.length), makeRng(seed));
    if (!next.equals(current)) {
      writeFileSync(p, next);
      return;
    }
  }
}

function main(argv) {
  const dir = argv[0];
  if (!dir) {
    process.stderr.write("usage: generate.mjs DIR [--touch N]\n");
    process.exit(2);
  }
  const t = argv.indexOf("--touch");
  if (t >= 0) {
    touch(dir, Number(argv[t + 1] ?? 1));
    return;
  }
  const made = generate(dir);
  process.stdout.write(`${made ? "generated" : "reused"} ${dir}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
