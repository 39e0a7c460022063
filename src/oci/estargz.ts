// Converts a layer tar into an eStargz blob (stargz-snapshotter's lazily pullable gzip layer), streaming:
// the tar is read once, each regular file's data is cut into chunks that each start a new gzip member,
// everything else (headers, padding, other entries) rides in the member that is open, and a TOC member and
// the 51-byte footer end the blob. Only one chunk per member and the TOC are held in memory.
//
// Layout follows upstream's builder with no prioritized files: a `.no.prefetch.landmark` entry first, the
// input's entries with their header bytes unchanged, the input's end-of-archive blocks dropped, so the
// decompressed blob is one tar whose last entry is `stargz.index.json`. With `lossless`, the layout is
// that of BuildKit's exporter instead (upstream's AppendTarLossLess): no landmark, the input kept byte
// for byte including its end-of-archive blocks, the TOC tar after them.
import { createHash } from "node:crypto";
import type { Digest } from "../util/digest.js";
import { sha256 } from "../util/digest.js";
import { canceledError, GantryError } from "../util/errors.js";
import { GzipMemberQueue } from "./estargz-members.js";
import { nextTarEntry, TarByteSource, type TarEntryHead } from "./estargz-tar-reader.js";
import {
  encodeToc, ESTARGZ_LANDMARK_CONTENT, ESTARGZ_NO_PREFETCH_LANDMARK, ESTARGZ_PREFETCH_LANDMARK, ESTARGZ_TOC_DIGEST_ANNOTATION,
  ESTARGZ_TOC_NAME, ESTARGZ_UNCOMPRESSED_SIZE_ANNOTATION, estargzFooter, OwnerNames, tocEntryFor, tocTarBytes, type TocEntry,
} from "./estargz-toc.js";
import { encodeTarHeader, tarPadding } from "./tar-format.js";

export interface EstargzOptions {
  /** gzip level 0–9; default 6, gzip's default (BuildKit's too). */
  level?: number;
  /** Bytes of file data per gzip member at most; default 4 MiB, upstream's. */
  chunkSize?: number;
  /** Keep the input byte for byte and add no landmark, as BuildKit's exporter does (see the file comment). */
  lossless?: boolean;
  signal?: AbortSignal;
}

export interface EstargzResult {
  /** sha256 of the decompressed blob: the layer's diffID (it includes the landmark and the TOC entry). */
  diffId: Digest;
  /** sha256 of the TOC JSON: the `containerd.io/snapshot/stargz/toc.digest` annotation. */
  tocDigest: Digest;
  /** Bytes of the decompressed blob: the `io.containers.estargz.uncompressed-size` annotation. */
  uncompressedSize: number;
  blobDigest: Digest;
  blobSize: number;
  /** The two annotations the layer descriptor must carry, ready to merge into it. */
  annotations: Record<string, string>;
}

/**
 * A conversion in progress. `blob` is single-use and drives the work: `done` settles only once `blob` has
 * been read to its end (or failed, or been abandoned, which rejects `done` with Canceled).
 */
export interface EstargzConversion {
  blob: AsyncIterable<Buffer>;
  done: Promise<EstargzResult>;
}

const DEFAULT_LEVEL = 6;
const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
/** Finished members allowed to wait for zlib while the next one is fed. */
const WINDOW = 3;
/** File data is read and fed to zlib in pieces of this size. */
const READ_PIECE = 1024 * 1024;

interface Placed {
  entry: TocEntry;
  /** Member where the entry's data starts; becomes `offset` once that member's place is known. */
  member?: number;
}

/**
 * Converts `tar` (an uncompressed layer tar) to an eStargz blob. Throws InvalidArgument for a bad level or
 * chunk size; the blob fails with InvalidArgument for a malformed tar or an entry type eStargz cannot hold,
 * and with Canceled when `signal` aborts.
 */
export function estargzFromTar(tar: AsyncIterable<Uint8Array>, opts: EstargzOptions = {}): EstargzConversion {
  const level = opts.level ?? DEFAULT_LEVEL;
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new GantryError("InvalidArgument", `Invalid compression-level ${level} for estargz: expected an integer from 0 to 9.`);
  }
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new GantryError("InvalidArgument", `Invalid eStargz chunk size ${chunkSize}: expected a positive integer.`);
  }
  let settle!: { resolve: (r: EstargzResult) => void; reject: (e: unknown) => void };
  const done = new Promise<EstargzResult>((resolve, reject) => { settle = { resolve, reject }; });
  done.catch(() => undefined); // the blob's reader sees the same error; `done` may go unobserved
  const converter = new EstargzConverter(tar, { level, chunkSize, lossless: opts.lossless ?? false, signal: opts.signal });
  async function* blob(): AsyncGenerator<Buffer> {
    let finished = false;
    try {
      const blobHash = createHash("sha256");
      let blobSize = 0;
      for await (const b of converter.run()) {
        blobHash.update(b);
        blobSize += b.length;
        yield b;
      }
      const r = converter.result(`sha256:${blobHash.digest("hex")}` as Digest, blobSize);
      finished = true;
      settle.resolve(r);
    } catch (err) {
      settle.reject(err);
      throw err;
    } finally {
      if (!finished) settle.reject(new GantryError("Canceled", "The eStargz conversion was stopped before the blob was fully read."));
    }
  }
  return { blob: blob(), done };
}

interface ConverterOptions {
  level: number;
  chunkSize: number;
  lossless: boolean;
  signal?: AbortSignal;
}

class EstargzConverter {
  readonly #src: TarByteSource;
  readonly #opts: ConverterOptions;
  readonly #q: GzipMemberQueue;
  readonly #owners = new OwnerNames();
  readonly #placed: Placed[] = [];
  #tocDigest: Digest | undefined;

  constructor(tar: AsyncIterable<Uint8Array>, opts: ConverterOptions) {
    this.#src = new TarByteSource(tar, opts.signal);
    this.#opts = opts;
    this.#q = new GzipMemberQueue(opts.level);
  }

  /** Yields the blob's bytes; the input is closed and zlib stopped however it ends. */
  async *run(): AsyncGenerator<Buffer> {
    const onAbort = (): void => this.#q.destroy();
    this.#opts.signal?.addEventListener("abort", onAbort);
    try {
      if (!this.#opts.lossless) await this.#landmark();
      for (;;) {
        this.#checkAbort();
        const next = await nextTarEntry(this.#src);
        if (next.kind === "end") {
          yield* this.#trailer(next.raw);
          break;
        }
        yield* this.#entry(next);
        yield* this.#q.flush(WINDOW);
      }
      yield* this.#finish();
    } catch (err) {
      this.#checkAbort(); // zlib streams destroyed by an abort fail with their own error: report Canceled
      throw err;
    } finally {
      this.#opts.signal?.removeEventListener("abort", onAbort);
      this.#q.destroy();
      this.#src.close();
    }
  }

  /** The summary, once `run` has ended. */
  result(blobDigest: Digest, blobSize: number): EstargzResult {
    const tocDigest = this.#tocDigest as Digest;
    const uncompressedSize = this.#q.uncompressed.size;
    return {
      diffId: this.#q.uncompressed.digest(), tocDigest, uncompressedSize, blobDigest, blobSize,
      annotations: { [ESTARGZ_TOC_DIGEST_ANNOTATION]: tocDigest, [ESTARGZ_UNCOMPRESSED_SIZE_ANNOTATION]: String(uncompressedSize) },
    };
  }

  #checkAbort(): void {
    if (this.#opts.signal?.aborted) throw canceledError(this.#opts.signal);
  }

  /** The no-prefetch landmark: a one-byte regular file whose data starts a member, like any file. */
  async #landmark(): Promise<void> {
    const header = encodeTarHeader({ name: ESTARGZ_NO_PREFETCH_LANDMARK, type: "0", mode: 0, uid: 0, gid: 0, mtime: 0, size: 1 });
    await this.#q.append(header);
    const content = Buffer.from([ESTARGZ_LANDMARK_CONTENT]);
    const digest = sha256(content);
    const entry: TocEntry = { name: ESTARGZ_NO_PREFETCH_LANDMARK, type: "reg", size: 1, digest, chunkDigest: digest };
    this.#placed.push({ entry, member: this.#q.boundary() });
    await this.#q.append(content);
    await this.#q.append(Buffer.alloc(tarPadding(1)));
  }

  async *#entry(next: TarEntryHead): AsyncGenerator<Buffer> {
    const h = next.header;
    const clean = cleanName(h.name);
    if (clean === ESTARGZ_TOC_NAME || clean === ESTARGZ_NO_PREFETCH_LANDMARK || clean === ESTARGZ_PREFETCH_LANDMARK) {
      if (this.#opts.lossless && clean === ESTARGZ_TOC_NAME) {
        throw new GantryError("InvalidArgument", `Cannot convert the layer tar to eStargz losslessly: it already has a ${ESTARGZ_TOC_NAME}.`);
      }
      if (!this.#opts.lossless) {
        // Upstream's builder drops an old TOC and old landmarks: this blob gets its own.
        await this.#skip(h.size + tarPadding(h.size));
        return;
      }
    }
    const entry = tocEntryFor(h, this.#owners);
    await this.#q.append(next.raw);
    if (entry.type === "reg") {
      yield* this.#regular(entry, h.size);
    } else {
      this.#placed.push({ entry });
      await this.#copy(h.size + tarPadding(h.size));
    }
  }

  /** A regular file's data: each chunk starts a member; the TOC gets a `reg` entry then `chunk` entries. */
  async *#regular(first: TocEntry, size: number): AsyncGenerator<Buffer> {
    const fileHash = createHash("sha256");
    let entry = first;
    let written = 0;
    if (size === 0) this.#placed.push({ entry });
    while (written < size) {
      const n = Math.min(this.#opts.chunkSize, size - written);
      const placed: Placed = { entry, member: this.#q.boundary() };
      if (written > 0) entry.chunkOffset = written;
      // Upstream records chunkSize for every full-size chunk, the last one too when it is full-size.
      if (n === this.#opts.chunkSize) entry.chunkSize = n;
      const chunkHash = createHash("sha256");
      for (let done = 0; done < n;) {
        const piece = (await this.#src.read(Math.min(READ_PIECE, n - done))) as Buffer;
        chunkHash.update(piece);
        fileHash.update(piece);
        await this.#q.append(piece);
        done += piece.length;
      }
      entry.chunkDigest = `sha256:${chunkHash.digest("hex")}`;
      this.#placed.push(placed);
      written += n;
      yield* this.#q.flush(WINDOW);
      this.#checkAbort();
      entry = { name: first.name, type: "chunk" };
    }
    first.digest = `sha256:${fileHash.digest("hex")}`;
    await this.#copy(tarPadding(size));
  }

  async #copy(n: number): Promise<void> {
    for (let done = 0; done < n;) {
      const piece = (await this.#src.read(Math.min(READ_PIECE, n - done))) as Buffer;
      await this.#q.append(piece);
      done += piece.length;
    }
  }

  async #skip(n: number): Promise<void> {
    for (let done = 0; done < n;) done += ((await this.#src.read(Math.min(READ_PIECE, n - done))) as Buffer).length;
  }

  /** The input's end-of-archive blocks and anything after: kept when lossless, else dropped. */
  async *#trailer(first: Buffer): AsyncGenerator<Buffer> {
    if (!this.#opts.lossless) {
      for await (const piece of this.#src.rest()) void piece; // drain, so the producer finishes
      return;
    }
    await this.#q.append(first);
    for await (const piece of this.#src.rest()) {
      await this.#q.append(piece);
      yield* this.#q.flush(WINDOW);
    }
  }

  /** Ends the last member, then writes the TOC member and the footer. */
  async *#finish(): AsyncGenerator<Buffer> {
    this.#q.boundary();
    yield* this.#q.flush(0);
    const entries = this.#placed.map((p) => {
      if (p.member !== undefined) p.entry.offset = this.#q.offsetOf(p.member);
      return p.entry;
    });
    const json = encodeToc(entries);
    this.#tocDigest = sha256(json);
    const tocOffset = this.#q.written;
    await this.#q.append(tocTarBytes(json));
    this.#q.boundary();
    yield* this.#q.flush(0);
    yield estargzFooter(tocOffset);
  }
}

/** The entry name as upstream compares it: cleaned, without leading `/` or `./`. */
function cleanName(name: string): string {
  const parts: string[] = [];
  for (const p of name.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return parts.join("/");
}
