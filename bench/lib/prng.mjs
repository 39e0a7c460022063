// Deterministic pseudo-random bytes for the generated contexts: the same seed gives the same files on every
// machine, so runs compare like with like. Not cryptographic; only fast and repeatable.

/** A seeded xorshift32 stream. `next()` returns an unsigned 32-bit integer. */
export function makeRng(seed) {
  let x = (seed >>> 0) || 0x9e3779b9;
  return {
    next() {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    },
  };
}

/** Fills `buf` with incompressible bytes from `rng`. */
export function fillRandom(buf, rng) {
  const words = Math.floor(buf.length / 4);
  const view = new Uint32Array(buf.buffer, buf.byteOffset, words);
  for (let i = 0; i < words; i++) view[i] = rng.next();
  for (let i = words * 4; i < buf.length; i++) buf[i] = rng.next() & 0xff;
  return buf;
}

/** Fills `buf` with text-like bytes: 16 letters, 4 bits of entropy a byte, so gzip shrinks it by about half. */
export function fillText(buf, rng) {
  const alphabet = Buffer.from("etaoinshrdlu \n.,");
  for (let i = 0; i < buf.length; i += 8) {
    let r = rng.next();
    for (let j = 0; j < 8 && i + j < buf.length; j++) {
      buf[i + j] = alphabet[r & 15];
      r >>>= 4;
    }
  }
  return buf;
}
