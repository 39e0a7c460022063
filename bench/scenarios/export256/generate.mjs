#!/usr/bin/env node
// Writes DIR/big.dat: 256 MiB made deterministically from a fixed seed, in 64 KiB chunks that are a
// quarter incompressible, half text-like (4 bits a byte) and a quarter repetitive, so gzip works about as
// hard as on a real layer of binaries and text (it shrinks the file to roughly half). Idempotent through a
// stamp file beside DIR.
//   node bench/scenarios/export256/generate.mjs DIR
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { fillRandom, fillText, makeRng } from "../../lib/prng.mjs";

const SIZE = 256 * 1024 * 1024;
const CHUNK = 64 * 1024;
const STAMP_SUFFIX = ".export256-v1.stamp";

function fillRepetitive(buf, rng) {
  const line = Buffer.from(`usr/lib/x86_64-linux-gnu/lib${rng.next() % 1000}.so.${rng.next() % 10} `);
  for (let i = 0; i < buf.length; i += line.length) line.copy(buf, i, 0, Math.min(line.length, buf.length - i));
  return buf;
}

/** Makes DIR/big.dat unless its stamp is there; true when it wrote it. */
export function generate(dir) {
  if (existsSync(dir + STAMP_SUFFIX)) return false;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rng = makeRng(256);
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(join(dir, "big.dat"), "w");
  try {
    for (let off = 0; off < SIZE; off += CHUNK) {
      const pick = rng.next() & 3;
      if (pick === 0) fillRandom(buf, rng);
      else if (pick === 3) fillRepetitive(buf, rng);
      else fillText(buf, rng);
      writeSync(fd, buf);
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(dir + STAMP_SUFFIX, `${SIZE} bytes\n`);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: generate.mjs DIR\n");
    process.exit(2);
  }
  process.stdout.write(`${generate(dir) ? "generated" : "reused"} ${dir}\n`);
}
