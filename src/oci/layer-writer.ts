// Writes a layer directory as an OCI layer tar, streaming and hashing (the diffID) as it goes.
//
// The directory is a snapshot's own changes in overlay form: a deleted path is a 0/0 character device
// and a directory that hides its lower content carries `trusted.overlay.opaque=y`. Those become OCI
// whiteouts (`.wh.<name>` and `.wh..wh..opq`) here, so exporting never walks the lower layers.
// Entries are emitted in byte order of their names, depth first, with seconds-precision mtimes and
// no user/group names, so the same directory always gives the same bytes (and the same diffID).
//
// The PAX headers are encoded here rather than by tar-stream: tar-stream writes PAX values as UTF-8
// text, which would corrupt binary xattr values such as `security.capability`.
import { createReadStream, type Stats } from "node:fs";
import { readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { Digest } from "../util/digest.js";
import { canceledError, GantryError, isCanceled, messageOf, throwIfAborted } from "../util/errors.js";
import { readAhead, type LayerItem } from "./layer-read-ahead.js";
import { encodeTarHeader, paxRecords, TAR_BLOCK, tarPadding, type TarHeader } from "./tar-format.js";
import { TarSink } from "./tar-sink.js";
import { readXattrs, type XattrMap } from "./xattr-reader.js";

export interface LayerTarOptions {
  signal?: AbortSignal;
  /** SOURCE_DATE_EPOCH in seconds: later mtimes are clamped to it. */
  sourceDateEpoch?: number;
  /** Seconds since the epoch given to every entry (the tar/local exporters' `source-date-epoch`). */
  fixedMtime?: number;
  /** Convert overlay whiteouts to OCI ones (default true). Pass false for a merged rootfs. */
  overlayWhiteouts?: boolean;
  /** End `out` once the archive is written and wait for it to finish (default true). */
  end?: boolean;
  /**
   * The directory's xattrs read beforehand (see xattr-batch.ts); resolving to undefined or rejecting means
   * "read them here". Saves a getfattr process per layer when many are exported together.
   */
  xattrs?: Promise<XattrMap | undefined>;
}

export interface LayerTarResult {
  /** sha256 of the uncompressed tar stream. */
  diffId: Digest;
  /** Bytes of the uncompressed tar stream. */
  size: number;
  /** Number of entries written (0 for an empty directory). */
  entries: number;
}

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";
/** Xattrs that describe overlay bookkeeping or host labelling, never image content. */
const SKIPPED_XATTR = [/^trusted\.overlay\./, /^user\.overlay\./, /^security\.selinux$/];
const READ_CHUNK = 1024 * 1024;
/** Zero bytes for padding and the end-of-archive marker; shared because pushed buffers are never changed. */
const ZEROS = Buffer.alloc(2 * TAR_BLOCK);

/**
 * Streams `dir` as a layer tar into `out` and returns its diffID and size. Small files are read a bounded
 * window ahead of the writer (see layer-read-ahead.ts); large ones are streamed. Errors: Canceled when `signal` aborts; Internal naming the path for file system failures;
 * FailedPrecondition when `getfattr` (package `attr`) is missing. On failure `out` is destroyed (without
 * an error event) when `end` is true; otherwise the caller owns it.
 */
export async function writeLayerTar(dir: string, out: Writable, opts: LayerTarOptions = {}): Promise<LayerTarResult> {
  const sink = new TarSink(out, opts.signal);
  try {
    throwIfAborted(opts.signal);
    const names = await readdir(dir);
    // getfattr runs while the first files are read ahead; entries wait for it before being written.
    const xattrs = names.length === 0 ? Promise.resolve(new Map()) : xattrsOf(dir, opts);
    xattrs.catch(() => undefined); // awaited below; a walk error may come first
    const walker = new LayerWalker(dir, sink, opts);
    await walker.walk(names, xattrs);
    sink.push(ZEROS);
    await sink.flush();
    if (opts.end !== false) {
      out.end();
      await finished(out, { readable: false });
    }
    sink.release();
    return { diffId: sink.digest(), size: sink.size, entries: walker.entries };
  } catch (err) {
    const wrapped = wrapError(err, dir, opts.signal);
    // Destroyed without an error of ours (the caller gets `wrapped`; the consumer of `out` sees it close
    // early). Some duplexes still emit an AbortError: the sink's listener stays attached to absorb it.
    if (opts.end !== false) out.destroy();
    else sink.release();
    throw wrapped;
  }
}

async function xattrsOf(dir: string, opts: LayerTarOptions): Promise<XattrMap> {
  // A failed batch read is not this layer's error: reading alone reports the real cause, if any.
  const given = await opts.xattrs?.catch(() => undefined);
  return given ?? readXattrs(dir, { signal: opts.signal });
}

function wrapError(err: unknown, dir: string, signal?: AbortSignal): GantryError {
  if (signal?.aborted || isCanceled(err)) return canceledError(signal);
  if (err instanceof GantryError) return err;
  return new GantryError("Internal", `Cannot write the layer tar of ${dir}: ${messageOf(err)}`, { cause: err });
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Linux `major(dev)` and `minor(dev)` for the glibc encoding of dev_t. */
function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev % 2 ** 32;
  const devmajor = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const devminor = (lo & 0xff) | ((lo >>> 12) & 0xfff00);
  return { devmajor, devminor };
}

class LayerWalker {
  readonly #root: string;
  readonly #sink: TarSink;
  #xattrs: XattrMap = new Map();
  readonly #opts: LayerTarOptions;
  readonly #whiteouts: boolean;
  entries = 0;

  constructor(root: string, sink: TarSink, opts: LayerTarOptions) {
    this.#root = root;
    this.#sink = sink;
    this.#opts = opts;
    this.#whiteouts = opts.overlayWhiteouts !== false;
  }

  /** Emits everything under the root in archive order; `names` are the root's entries. */
  async walk(names: string[], xattrs: Promise<XattrMap>): Promise<void> {
    let first = true;
    for await (const item of readAhead(this.#root, names)) {
      throwIfAborted(this.#opts.signal);
      if (first) {
        this.#xattrs = await xattrs;
        first = false;
      }
      await this.#emit(item);
      if (this.#sink.full) await this.#sink.flush();
    }
  }

  async #emit(item: LayerItem): Promise<void> {
    const { rel, name, st } = item;
    if (this.#whiteouts && isWhiteout(st)) {
      const parent = rel.slice(0, rel.length - name.length);
      this.#entry({ ...this.#base(st), mode: 0, uid: 0, gid: 0, type: "0", name: `${parent}${WHITEOUT_PREFIX}${name}` });
      return;
    }
    const xattrs = this.#contentXattrs(rel);
    if (st.isDirectory()) {
      this.#entry({ ...this.#base(st), type: "5", name: `${rel}/`, xattrs });
      if (this.#whiteouts && this.#isOpaque(rel)) {
        this.#entry({ ...this.#base(st), mode: 0, uid: 0, gid: 0, type: "0", name: `${rel}/${OPAQUE_MARKER}` });
      }
      // The read-ahead yields the directory's children next.
    } else if (st.isFile()) {
      await this.#file(item, xattrs);
    } else if (st.isSymbolicLink()) {
      const linkname = item.linkTarget ?? (await readlink(join(this.#root, rel)));
      this.#entry({ ...this.#base(st), type: "2", name: rel, linkname, xattrs });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      this.#entry({ ...this.#base(st), ...devNumbers(st.rdev), type: st.isBlockDevice() ? "4" : "3", name: rel, xattrs });
    } else if (st.isFIFO()) {
      this.#entry({ ...this.#base(st), type: "6", name: rel, xattrs });
    }
    // Sockets cannot be represented in a layer tar; they are skipped, as other image builders do.
  }

  async #file(item: LayerItem, xattrs: Map<string, Buffer> | undefined): Promise<void> {
    const { rel, st } = item;
    if (item.linkTo !== undefined) {
      this.#entry({ ...this.#base(st), type: "1", name: rel, linkname: item.linkTo, xattrs });
      return;
    }
    this.#entry({ ...this.#base(st), type: "0", name: rel, size: st.size, xattrs });
    let written = 0;
    if (item.data !== undefined) {
      written = item.data.length;
      if (written <= st.size) this.#sink.push(item.data);
    } else if (st.size > 0) {
      written = await this.#stream(rel, st.size);
    }
    if (written !== st.size) {
      throw new GantryError("FailedPrecondition",
        `Cannot write ${rel} of layer ${this.#root}: the file changed size while being read (${st.size} → ${written} bytes).`);
    }
    const pad = tarPadding(st.size);
    if (pad > 0) this.#sink.push(ZEROS.subarray(0, pad));
  }

  /** Streams a large file into the sink; returns the bytes read (stopping once past `size`). */
  async #stream(rel: string, size: number): Promise<number> {
    await this.#sink.flush();
    let written = 0;
    const stream = createReadStream(join(this.#root, rel), { highWaterMark: READ_CHUNK, signal: this.#opts.signal });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > size) break;
      this.#sink.push(chunk);
      await this.#sink.flush();
    }
    return written;
  }

  #base(st: Stats): Omit<TarHeader, "name" | "type"> {
    let mtime = Math.floor(st.mtimeMs / 1000);
    if (this.#opts.fixedMtime !== undefined) mtime = this.#opts.fixedMtime;
    else if (this.#opts.sourceDateEpoch !== undefined && mtime > this.#opts.sourceDateEpoch) mtime = this.#opts.sourceDateEpoch;
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime, size: 0 };
  }

  #isOpaque(rel: string): boolean {
    const x = this.#xattrs.get(rel);
    const v = x?.get("trusted.overlay.opaque") ?? x?.get("user.overlay.opaque");
    return v !== undefined && v.toString("latin1") === "y";
  }

  #contentXattrs(rel: string): Map<string, Buffer> | undefined {
    const all = this.#xattrs.get(rel);
    if (all === undefined) return undefined;
    const kept = new Map<string, Buffer>();
    for (const [k, v] of all) if (!SKIPPED_XATTR.some((re) => re.test(k))) kept.set(k, v);
    return kept.size > 0 ? kept : undefined;
  }

  #entry(h: TarHeader): void {
    this.entries++;
    const pax = paxRecords(h);
    if (pax !== undefined) {
      this.#sink.push(encodeTarHeader({ name: paxName(h.name), type: "x", mode: 0o644, uid: 0, gid: 0, mtime: h.mtime, size: pax.length }));
      this.#sink.push(pax);
      const pad = tarPadding(pax.length);
      if (pad > 0) this.#sink.push(ZEROS.subarray(0, pad));
    }
    this.#sink.push(encodeTarHeader(h));
  }
}

function paxName(name: string): string {
  const trimmed = name.endsWith("/") ? name.slice(0, -1) : name;
  const base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return `PaxHeaders.0/${base}`;
}

