// Which parts of a block deflate cannot shrink. zlib at level 6 spends as long on random bytes (already
// compressed files, keys, media) as on text, then emits them as stored blocks anyway; finding them first
// lets the caller store them itself for a memcpy's cost.
//
// The rule: a block is cut into SEGMENT_BYTES segments at fixed offsets. A full segment is "stored" when a
// sample of it (every SAMPLE_STRIDE-th byte) looks uniformly distributed: its count of equal-byte pairs,
// sum c(c-1) over the 256 byte values, is at most 26/25 of what uniform bytes give, n(n-1)/256.
// That is the collision entropy (Rényi order 2) being at least ~7.94 bits a byte. Random data sits near
// ratio 1.00 (it would fail the test ~9 standard deviations out); text and code are far above (4-bit text
// is ~16). Byte frequencies cannot see repeats, so a segment that passes is still deflated when any of the
// PROBE_BYTES strings at each PROBE_SPACING offset in it already occurred in the 32 KiB before it (deflate's
// window; one Buffer.indexOf each, ~1 ms per MiB of random input): a compressed file stored twice in a
// row compresses as gzip would. Shorter segments (only the input's last) are always deflated. Every step
// is integer arithmetic or byte comparison on the input, so the plan, and the output, depend only on it.
//
// Trade-off: a repeat shorter than about PROBE_SPACING, or one straddling the previous block's edge, can be
// missed and its high-entropy copy stored where gzip would have matched it; nearly-uniform data that
// deflate could trim by a percent or two (e.g. JPEG scan data) may be stored too. Both cost a little
// size, never correctness.

/** Segment size: small enough to find the incompressible parts of a mixed layer, large enough that the
 * extra zlib call a stored run costs the text around it stays cheap. */
export const SEGMENT_BYTES = 16 * 1024;
/** Every third byte: a third of the work, and 3 shares no factor with 2-, 4- or 8-byte record layouts. */
const SAMPLE_STRIDE = 3;
/** Stored when pairs ≤ 26/25 of uniform (ratio 1.04, collision entropy ≥ log2(256/1.04) ≈ 7.94 bits). */
const STORE_NUM = 26;
const STORE_DEN = 25;
const WINDOW = 32 * 1024;
const PROBE_BYTES = 32;
const PROBE_SPACING = 4 * 1024;

/** A half-open byte range [start, end) of a block; `stored` ranges are kept verbatim. */
export interface DeflateRun {
  start: number;
  end: number;
  stored: boolean;
}

const counts = new Uint32Array(256);

/** True when `segment` looks incompressible by the rule above (it must be at least a few KiB long). */
export function looksIncompressible(segment: Uint8Array): boolean {
  counts.fill(0);
  let n = 0;
  for (let i = 0; i < segment.length; i += SAMPLE_STRIDE) {
    counts[segment[i] as number]++;
    n++;
  }
  let pairs = 0;
  for (let b = 0; b < 256; b++) {
    const c = counts[b] as number;
    pairs += c * (c - 1);
  }
  // pairs / (n(n-1)/256) <= NUM/DEN, cross-multiplied; all terms stay far below 2^53.
  return pairs * 256 * STORE_DEN <= n * (n - 1) * STORE_NUM;
}

/**
 * Splits `block` into alternating runs of deflatable and stored bytes (adjacent segments of one kind
 * merged; an empty block gives no runs). `before` is the input just before the block (its last 32 KiB
 * count for repeats). At level 0 everything is one stored run.
 */
export function planDeflateRuns(block: Uint8Array, before: Uint8Array, level: number): DeflateRun[] {
  if (block.length === 0) return [];
  if (level === 0) return [{ start: 0, end: block.length, stored: true }];
  const runs: DeflateRun[] = [];
  for (let start = 0; start < block.length; start += SEGMENT_BYTES) {
    const end = Math.min(start + SEGMENT_BYTES, block.length);
    const stored = end - start === SEGMENT_BYTES && looksIncompressible(block.subarray(start, end)) &&
      !repeatsRecentBytes(block, before, start, end);
    const last = runs[runs.length - 1];
    if (last && last.stored === stored) last.end = end;
    else runs.push({ start, end, stored });
  }
  return runs;
}

/** True when a probe string of block[start, end) occurs in the 32 KiB before it (see the rule above). */
function repeatsRecentBytes(block: Uint8Array, before: Uint8Array, start: number, end: number): boolean {
  const buf = Buffer.from(block.buffer, block.byteOffset, block.length);
  for (let at = start; at + PROBE_BYTES <= end; at += PROBE_SPACING) {
    const probe = buf.subarray(at, at + PROBE_BYTES);
    // Up to the probe's last byte but one, so the probe itself never matches; earlier overlaps do.
    if (buf.subarray(Math.max(0, at - WINDOW), at + PROBE_BYTES - 1).indexOf(probe) >= 0) return true;
    if (at < WINDOW && before.length > 0) {
      const tail = Buffer.from(before.buffer, before.byteOffset, before.length);
      if (tail.subarray(Math.max(0, tail.length - (WINDOW - at))).indexOf(probe) >= 0) return true;
    }
  }
  return false;
}
