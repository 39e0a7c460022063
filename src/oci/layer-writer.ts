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
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { DigestHasher, type Digest } from "../util/digest.js";
import { canceledError, GantryError, isCanceled, messageOf, throwIfAborted } from "../util/errors.js";
import { encodeTarHeader, paxRecords, TAR_BLOCK, tarPadding, type TarHeader } from "./tar-format.js";
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
const FLUSH_BYTES = 256 * 1024;
const READ_CHUNK = 1024 * 1024;

/**
 * Streams `dir` as a layer tar into `out` and returns its diffID and size. Nothing is buffered beyond one
 * read chunk. Errors: Canceled when `signal` aborts; Internal naming the path for file system failures;
 * FailedPrecondition when `getfattr` (package `attr`) is missing. On failure `out` is destroyed (without
 * an error event) when `end` is true; otherwise the caller owns it.
 */
export async function writeLayerTar(dir: string, out: Writable, opts: LayerTarOptions = {}): Promise<LayerTarResult> {
  const sink = new TarSink(out, opts.signal);
  try {
    throwIfAborted(opts.signal);
    const names = await readdir(dir);
    const xattrs = names.length === 0 ? new Map() : await readXattrs(dir, { signal: opts.signal });
    const walker = new LayerWalker(dir, sink, xattrs, opts);
    await walker.walkDir("", names);
    await sink.push(Buffer.alloc(2 * TAR_BLOCK));
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

function wrapError(err: unknown, dir: string, signal?: AbortSignal): GantryError {
  if (signal?.aborted || isCanceled(err)) return canceledError(signal);
  if (err instanceof GantryError) return err;
  return new GantryError("Internal", `Cannot write the layer tar of ${dir}: ${messageOf(err)}`, { cause: err });
}

/** Collects small writes into larger ones, hashes everything and honours the destination's backpressure. */
class TarSink {
  readonly #out: Writable;
  readonly #signal?: AbortSignal;
  readonly #hasher = new DigestHasher();
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #error: Error | undefined;
  readonly #onError = (e: Error): void => {
    this.#error ??= e;
  };

  constructor(out: Writable, signal?: AbortSignal) {
    this.#out = out;
    this.#signal = signal;
    // Listen for the whole write: a write error between our awaits must not become an uncaught event.
    out.on("error", this.#onError);
  }

  /** Stops listening to the destination; call once when done. */
  release(): void {
    this.#out.off("error", this.#onError);
  }

  get size(): number {
    return this.#hasher.size;
  }

  digest(): Digest {
    return this.#hasher.digest();
  }

  async push(chunk: Buffer): Promise<void> {
    this.#hasher.update(chunk);
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#pendingBytes === 0) return;
    const buf = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (!this.#out.write(buf)) await waitDrain(this.#out, this.#signal);
    if (this.#error) throw this.#error;
  }
}

/** Resolves on 'drain'; rejects when the stream errors, closes first, or the signal aborts. */
function waitDrain(out: Writable, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  if (out.destroyed) return Promise.reject(out.errored ?? new Error("the destination stream was closed"));
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off("drain", onDrain);
      out.off("error", onError);
      out.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      reject(out.errored ?? new Error("the destination stream was closed"));
    };
    const onAbort = (): void => {
      cleanup();
      reject(canceledError(signal));
    };
    out.on("drain", onDrain);
    out.on("error", onError);
    out.on("close", onClose);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
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
  readonly #xattrs: XattrMap;
  readonly #opts: LayerTarOptions;
  readonly #whiteouts: boolean;
  /** First path seen for each multiply-linked inode, so later ones become hard links to it. */
  readonly #links = new Map<string, string>();
  entries = 0;

  constructor(root: string, sink: TarSink, xattrs: XattrMap, opts: LayerTarOptions) {
    this.#root = root;
    this.#sink = sink;
    this.#xattrs = xattrs;
    this.#opts = opts;
    this.#whiteouts = opts.overlayWhiteouts !== false;
  }

  /** Emits the children of `rel` ("" for the root) in byte order, recursing into directories. */
  async walkDir(rel: string, names?: string[]): Promise<void> {
    const dirPath = join(this.#root, rel);
    const list = (names ?? (await readdir(dirPath))).slice().sort(compareBytes);
    const stats = await Promise.all(list.map((n) => lstat(join(dirPath, n))));
    for (let i = 0; i < list.length; i++) {
      throwIfAborted(this.#opts.signal);
      const childRel = rel === "" ? list[i] : `${rel}/${list[i]}`;
      await this.#emit(childRel, list[i], stats[i]);
    }
  }

  async #emit(rel: string, name: string, st: Stats): Promise<void> {
    if (this.#whiteouts && isWhiteout(st)) {
      const parent = rel.slice(0, rel.length - name.length);
      await this.#entry({ ...this.#base(st), mode: 0, uid: 0, gid: 0, type: "0", name: `${parent}${WHITEOUT_PREFIX}${name}` });
      return;
    }
    const xattrs = this.#contentXattrs(rel);
    if (st.isDirectory()) {
      await this.#entry({ ...this.#base(st), type: "5", name: `${rel}/`, xattrs });
      if (this.#whiteouts && this.#isOpaque(rel)) {
        await this.#entry({ ...this.#base(st), mode: 0, uid: 0, gid: 0, type: "0", name: `${rel}/${OPAQUE_MARKER}` });
      }
      await this.walkDir(rel);
    } else if (st.isFile()) {
      await this.#file(rel, st, xattrs);
    } else if (st.isSymbolicLink()) {
      const linkname = await readlink(join(this.#root, rel));
      await this.#entry({ ...this.#base(st), type: "2", name: rel, linkname, xattrs });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await this.#entry({ ...this.#base(st), ...devNumbers(st.rdev), type: st.isBlockDevice() ? "4" : "3", name: rel, xattrs });
    } else if (st.isFIFO()) {
      await this.#entry({ ...this.#base(st), type: "6", name: rel, xattrs });
    }
    // Sockets cannot be represented in a layer tar; they are skipped, as other image builders do.
  }

  async #file(rel: string, st: Stats, xattrs: Map<string, Buffer> | undefined): Promise<void> {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#links.get(key);
      if (first !== undefined) {
        await this.#entry({ ...this.#base(st), type: "1", name: rel, linkname: first, xattrs });
        return;
      }
      this.#links.set(key, rel);
    }
    await this.#entry({ ...this.#base(st), type: "0", name: rel, size: st.size, xattrs });
    let written = 0;
    if (st.size > 0) {
      await this.#sink.flush();
      const stream = createReadStream(join(this.#root, rel), { highWaterMark: READ_CHUNK, signal: this.#opts.signal });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        written += chunk.length;
        if (written > st.size) break;
        await this.#sink.push(chunk);
      }
    }
    if (written !== st.size) {
      throw new GantryError("FailedPrecondition",
        `Cannot write ${rel} of layer ${this.#root}: the file changed size while being read (${st.size} → ${written} bytes).`);
    }
    const pad = tarPadding(st.size);
    if (pad > 0) await this.#sink.push(Buffer.alloc(pad));
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

  async #entry(h: TarHeader): Promise<void> {
    this.entries++;
    const pax = paxRecords(h);
    if (pax !== undefined) {
      const paxHeader = encodeTarHeader({ name: paxName(h.name), type: "x", mode: 0o644, uid: 0, gid: 0, mtime: h.mtime, size: pax.length });
      await this.#sink.push(paxHeader);
      await this.#sink.push(pax);
      const pad = tarPadding(pax.length);
      if (pad > 0) await this.#sink.push(Buffer.alloc(pad));
    }
    await this.#sink.push(encodeTarHeader(h));
  }
}

function paxName(name: string): string {
  const trimmed = name.endsWith("/") ? name.slice(0, -1) : name;
  const base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return `PaxHeaders.0/${base}`;
}

