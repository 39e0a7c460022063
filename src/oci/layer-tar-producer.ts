// The walk and encoding side of the layer writer, run in the layer tar worker (layer-tar-worker.ts) with
// synchronous file system calls: on a thread of its own a blocking lstat/open/read/close costs a system
// call, where the promise-based calls cost a trip through the libuv pool and the event loop per file.
//
// The directory is a snapshot's own changes in overlay form: a deleted path is a 0/0 character device
// and a directory that hides its lower content carries `trusted.overlay.opaque=y`. Those become OCI
// whiteouts (`.wh.<name>` and `.wh..wh..opq`) here, so exporting never walks the lower layers.
// Entries are emitted in byte order of their names, depth first, with seconds-precision mtimes and
// no user/group names, so the same directory always gives the same bytes (and the same diffID).
//
// The PAX headers are encoded by tar-format.ts rather than by tar-stream: tar-stream writes PAX values as
// UTF-8 text, which would corrupt binary xattr values such as `security.capability`.
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { GantryError } from "../util/errors.js";
import { encodeTarHeader, paxRecords, TAR_BLOCK, tarPadding, type TarHeader } from "./tar-format.js";
import type { TarSink } from "./tar-sink.js";
import type { XattrMap } from "./xattr-reader.js";

/** What to archive and how; structured-clonable, as it is posted to the worker. */
export interface LayerTarJob {
  /** The directory to archive (its entries, not itself). */
  root: string;
  /** The root's entries, already listed by the caller. */
  names: string[];
  /** SOURCE_DATE_EPOCH in seconds: later mtimes are clamped to it. */
  sourceDateEpoch?: number;
  /** Seconds since the epoch given to every entry. */
  fixedMtime?: number;
  /** Convert overlay whiteouts to OCI ones. */
  overlayWhiteouts: boolean;
}

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";
/** Xattrs that describe overlay bookkeeping or host labelling, never image content. */
const SKIPPED_XATTR = [/^trusted\.overlay\./, /^user\.overlay\./, /^security\.selinux$/];
/** Zero bytes for padding and the end-of-archive marker. */
const ZEROS = new Uint8Array(2 * TAR_BLOCK);

/**
 * Writes the whole archive of `job.root` (end-of-archive marker included) into `sink`, without `finish`;
 * resolves with the number of entries. `xattrs` is awaited before the first entry. Rejects with the Node
 * error (naming the path) for file system failures, FailedPrecondition for a file that changed size.
 */
export async function produceLayerTar(job: LayerTarJob, sink: TarSink, xattrs: Promise<XattrMap>): Promise<number> {
  const producer = new LayerTarProducer(job, sink);
  await producer.run(xattrs);
  sink.push(ZEROS);
  return producer.entries;
}

/** One entry found by the walk. */
interface Found {
  /** Path relative to the root, `/`-separated. */
  rel: string;
  name: string;
  /** The path to open: the root joined with `rel`. */
  path: string;
  st: Stats;
}

/** Entries stat'ed ahead while the xattrs are still being read (getfattr runs on the main thread's side). */
const MAX_AHEAD = 16384;
/** While walking ahead, the event loop gets a turn this often so the xattrs message can come in. */
const TURN_EVERY = 256;

/**
 * The entries under `dir` ("" for the root) in archive order: byte order of names, each directory followed
 * by its contents. A directory's entries are all stat'ed when it is entered.
 */
function* walk(root: string, rel: string, names?: string[]): Generator<Found> {
  const dirPath = rel === "" ? root : `${root}${rel}`;
  const list = sortByBytes(names ?? readdirSync(dirPath));
  const prefix = rel === "" ? "" : `${rel}/`;
  const found = list.map((name) => {
    const path = `${root}${prefix}${name}`;
    return { rel: `${prefix}${name}`, name, path, st: lstatSync(path) };
  });
  for (const f of found) {
    yield f;
    if (f.st.isDirectory()) yield* walk(root, f.rel);
  }
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

/**
 * Names sorted by their UTF-8 bytes, as tar readers and upstream's differ order them. JavaScript's own
 * order (UTF-16 code units) is the same unless a name holds a surrogate pair or a character ≥ U+E000.
 */
function sortByBytes(names: string[]): string[] {
  if (!names.some((n) => /[\uD800-\uFFFF]/.test(n))) return names.sort();
  const keyed = names.map((n) => ({ n, b: Buffer.from(n) }));
  keyed.sort((x, y) => Buffer.compare(x.b, y.b));
  return keyed.map((k) => k.n);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class LayerTarProducer {
  readonly #job: LayerTarJob;
  readonly #sink: TarSink;
  #xattrs: XattrMap | undefined;
  /** dev:ino of regular files with several links → the first path written (later ones become hard links). */
  readonly #links = new Map<string, string>();
  entries = 0;

  constructor(job: LayerTarJob, sink: TarSink) {
    this.#job = job;
    this.#sink = sink;
  }

  /** Emits every entry; until `xattrs` resolves, the walk goes ahead (stats only, a bounded number). */
  async run(xattrs: Promise<XattrMap>): Promise<void> {
    void xattrs.then((m) => (this.#xattrs ??= m), () => undefined);
    const root = this.#job.root.endsWith("/") ? this.#job.root : `${this.#job.root}/`;
    const entries = walk(root, "", this.#job.names);
    const ahead: Found[] = [];
    while (this.#xattrs === undefined && ahead.length < MAX_AHEAD) {
      const next = entries.next();
      if (next.done) break;
      ahead.push(next.value);
      if (ahead.length % TURN_EVERY === 0) await nextTurn();
    }
    this.#xattrs ??= await xattrs;
    for (const f of ahead) await this.#step(f);
    ahead.length = 0;
    for (const f of entries) await this.#step(f);
  }

  async #step(f: Found): Promise<void> {
    await this.#emit(f);
    if (this.#sink.ready) await this.#sink.drain();
  }

  get #whiteouts(): boolean {
    return this.#job.overlayWhiteouts;
  }

  async #emit(f: Found): Promise<void> {
    const { rel, name, st } = f;
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
    } else if (st.isFile()) {
      await this.#file(f, xattrs);
    } else if (st.isSymbolicLink()) {
      const linkname = readlinkSync(f.path);
      this.#entry({ ...this.#base(st), type: "2", name: rel, linkname, xattrs });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      this.#entry({ ...this.#base(st), ...devNumbers(st.rdev), type: st.isBlockDevice() ? "4" : "3", name: rel, xattrs });
    } else if (st.isFIFO()) {
      this.#entry({ ...this.#base(st), type: "6", name: rel, xattrs });
    }
    // Sockets cannot be represented in a layer tar; they are skipped, as other image builders do.
  }

  async #file(f: Found, xattrs: Map<string, Buffer> | undefined): Promise<void> {
    const { rel, st } = f;
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#links.get(key);
      if (first !== undefined) {
        this.#entry({ ...this.#base(st), type: "1", name: rel, linkname: first, xattrs });
        return;
      }
      this.#links.set(key, rel);
    }
    this.#entry({ ...this.#base(st), type: "0", name: rel, size: st.size, xattrs });
    if (st.size === 0) return;
    const fd = openSync(f.path, "r");
    let written: number;
    try {
      written = await this.#copy(fd, st.size);
    } finally {
      closeSync(fd);
    }
    if (written !== st.size) {
      throw new GantryError("FailedPrecondition",
        `Cannot write ${rel} of layer ${this.#job.root}: the file changed size while being read (${st.size} → ${written} bytes).`);
    }
    const pad = tarPadding(st.size);
    if (pad > 0) this.#sink.push(ZEROS.subarray(0, pad));
  }

  /**
   * Copies the open file into the sink; returns the bytes read, stopping at its end or one byte past
   * `size`. Each read asks for one byte more than is left, so the usual small file takes one read: a
   * short read is the end of a regular file, and a file that grew shows as longer than `size`.
   */
  async #copy(fd: number, size: number): Promise<number> {
    let got = 0;
    for (;;) {
      const ask = Math.min(this.#sink.free, size - got + 1);
      const n = this.#sink.readFrom(fd, ask);
      got += n;
      if (n < ask || got > size) return got;
      if (this.#sink.ready) await this.#sink.drain();
    }
  }

  #base(st: Stats): Omit<TarHeader, "name" | "type"> {
    let mtime = Math.floor(st.mtimeMs / 1000);
    if (this.#job.fixedMtime !== undefined) mtime = this.#job.fixedMtime;
    else if (this.#job.sourceDateEpoch !== undefined && mtime > this.#job.sourceDateEpoch) mtime = this.#job.sourceDateEpoch;
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime, size: 0 };
  }

  #isOpaque(rel: string): boolean {
    const x = this.#xattrs?.get(rel);
    const v = x?.get("trusted.overlay.opaque") ?? x?.get("user.overlay.opaque");
    return v !== undefined && v.toString("latin1") === "y";
  }

  #contentXattrs(rel: string): Map<string, Buffer> | undefined {
    const all = this.#xattrs?.get(rel);
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
