// One block of a block-parallel gzip stream, as raw deflate that can be concatenated with its neighbours
// (the scheme pigz uses). The block is planned into runs (incompressible-runs.ts): a stored run is framed
// here as stored deflate blocks, no zlib call; each deflatable run is one async zlib call in the libuv
// pool, primed with the 32 KiB of input before it as its dictionary so it finds the matches a single
// gzip stream would. Every piece but the stream's last ends byte-aligned (Z_SYNC_FLUSH, or the stored
// framing, which is byte-aligned by construction), so the next piece can follow directly.
import { setImmediate as nextTurn } from "node:timers/promises";
import { constants, deflateRaw, type ZlibOptions } from "node:zlib";
import type { Limiter } from "../util/limiter.js";
import { planDeflateRuns, type DeflateRun } from "./incompressible-runs.js";

/** deflate's window: a match reaches back at most this far, so a longer dictionary buys nothing. */
export const DEFLATE_WINDOW = 32 * 1024;
const STORED_BLOCK_MAX = 0xffff;
/** A final, empty fixed-Huffman block: ends a stream whose last data was sync-flushed or empty. */
const EMPTY_FINAL_BLOCK = Buffer.from([0x03, 0x00]);

export interface DeflateBlockInput {
  /** The block's bytes. */
  data: Buffer;
  /** Up to DEFLATE_WINDOW bytes of input just before the block (empty for the first block). */
  before: Buffer;
  /** The stream's last block: its output ends with a final deflate block. */
  final: boolean;
}

export interface DeflateBlockOptions {
  level: number;
  /** Bounds the zlib calls in flight across all blocks (they occupy libuv pool threads). */
  limiter: Limiter;
  /** Aborting rejects calls still waiting for the limiter with Canceled. */
  signal?: AbortSignal;
}

/**
 * Raw deflate of one block: deterministic for given bytes, `before`, level and zlib version. Rejects
 * with zlib's error, or Canceled when `signal` fires before every zlib call has started.
 */
export async function deflateBlock(input: DeflateBlockInput, opts: DeflateBlockOptions): Promise<Buffer> {
  const runs = planDeflateRuns(input.data, input.before, opts.level);
  if (runs.length === 0) return input.final ? EMPTY_FINAL_BLOCK : Buffer.alloc(0);
  // A block with no zlib call would resolve in microtasks only; a stream of such blocks from a fast
  // source would then starve timers and I/O. Yield one event-loop turn per block.
  if (runs.every((run) => run.stored)) await nextTurn();
  const pieces = await Promise.all(runs.map((run, i) => {
    const final = input.final && i === runs.length - 1;
    const bytes = input.data.subarray(run.start, run.end);
    if (run.stored) return storedBlocks(bytes, final);
    const options: ZlibOptions = {
      level: opts.level,
      dictionary: dictionaryBefore(input, run),
      finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      chunkSize: 64 * 1024,
    };
    return opts.limiter.run(() => deflateRawAsync(bytes, options), opts.signal);
  }));
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
}

/** `bytes` framed as stored deflate blocks (each at most 64 KiB - 1); the last one final if `final`. */
export function storedBlocks(bytes: Buffer, final: boolean): Buffer {
  const count = Math.max(1, Math.ceil(bytes.length / STORED_BLOCK_MAX));
  const out = Buffer.allocUnsafe(bytes.length + count * 5);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const part = bytes.subarray(i * STORED_BLOCK_MAX, (i + 1) * STORED_BLOCK_MAX);
    // Header byte: BFINAL in bit 0, BTYPE 00 (stored), the rest padding to the byte boundary.
    out[at] = final && i === count - 1 ? 1 : 0;
    out.writeUInt16LE(part.length, at + 1);
    out.writeUInt16LE(part.length ^ 0xffff, at + 3);
    part.copy(out, at + 5);
    at += 5 + part.length;
  }
  return out;
}

/** The input bytes in the DEFLATE_WINDOW before `run`, or undefined at the start of the stream. */
function dictionaryBefore(input: DeflateBlockInput, run: DeflateRun): Buffer | undefined {
  if (run.start >= DEFLATE_WINDOW) return input.data.subarray(run.start - DEFLATE_WINDOW, run.start);
  const fromBefore = input.before.subarray(Math.max(0, input.before.length - (DEFLATE_WINDOW - run.start)));
  if (run.start === 0) return fromBefore.length > 0 ? fromBefore : undefined;
  return fromBefore.length > 0 ? Buffer.concat([fromBefore, input.data.subarray(0, run.start)]) : input.data.subarray(0, run.start);
}

function deflateRawAsync(bytes: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(bytes, options, (err, out) => (err ? reject(err) : resolve(out)));
  });
}
