// The read side of the layer writer: walks a layer directory in archive order (byte order of names, depth
// first) and reads small files ahead of the writer, a bounded window of them at once. Reading one file at a
// time leaves the disk and the libuv pool idle between files: for many small files that, not the bytes,
// is the cost. The writer still emits strictly in order; only the reads overlap.
import { close, open, read, type Stats } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

export interface LayerItem {
  /** Path relative to the walked root, `/`-separated. */
  rel: string;
  /** Last component of `rel`. */
  name: string;
  st: Stats;
  /** A regular file whose inode was already seen: the first path of that inode (a hard link target). */
  linkTo?: string;
  /** The bytes of a small regular file, read ahead; may differ in length from `st.size` if it changed. */
  data?: Buffer;
  /** A symlink's target, read ahead. */
  linkTarget?: string;
}

export interface ReadAheadOptions {
  /** Files up to this size are read ahead whole; larger ones are left to the writer to stream. */
  smallFile?: number;
  /** At most this many items are queued ahead of the writer. */
  maxItems?: number;
  /** At most this many bytes of small files are read ahead. */
  maxBytes?: number;
}

const SMALL_FILE = 1024 * 1024;
const MAX_ITEMS = 128;
const MAX_BYTES = 16 * 1024 * 1024;

interface Pending {
  item: LayerItem;
  data?: Promise<Buffer>;
  target?: Promise<string>;
  bytes: number;
}

/**
 * Yields the entries under `root` (not `root` itself) in archive order, each small regular file with its
 * `data` and each symlink with its `linkTarget`. `names` are the root's entries when the caller has listed them already. File system errors reject
 * as they come (the Node error, naming the path); reads still in flight when the consumer stops finish
 * and close their files on their own.
 */
export async function* readAhead(root: string, names: string[] | undefined, opts: ReadAheadOptions = {}): AsyncGenerator<LayerItem> {
  const small = opts.smallFile ?? SMALL_FILE;
  const maxItems = opts.maxItems ?? MAX_ITEMS;
  const maxBytes = opts.maxBytes ?? MAX_BYTES;
  const links = new Map<string, string>();
  const walk = walkTree(root, "", names);
  const queue: Pending[] = [];
  let head = 0;
  let bytes = 0;
  let walked = false;
  for (;;) {
    while (!walked && queue.length - head < maxItems && bytes < maxBytes) {
      const next = await walk.next();
      if (next.done) {
        walked = true;
        break;
      }
      const p = pendingOf(root, next.value, links, small);
      bytes += p.bytes;
      queue.push(p);
    }
    if (head === queue.length) return;
    const p = queue[head];
    queue[head++] = undefined as unknown as Pending; // let the item go once yielded
    if (head > 1024) {
      queue.splice(0, head);
      head = 0;
    }
    if (p.data) p.item.data = await p.data;
    else if (p.target) p.item.linkTarget = await p.target;
    bytes -= p.bytes;
    yield p.item;
  }
}

function pendingOf(root: string, item: LayerItem, links: Map<string, string>, small: number): Pending {
  const st = item.st;
  if (st.isSymbolicLink()) {
    const target = readlink(join(root, item.rel));
    target.catch(() => undefined); // awaited in order later
    return { item, target, bytes: 0 };
  }
  if (!st.isFile()) return { item, bytes: 0 };
  if (st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      item.linkTo = first;
      return { item, bytes: 0 };
    }
    links.set(key, item.rel);
  }
  if (st.size === 0 || st.size > small) return { item, bytes: 0 };
  const data = readSmallFile(join(root, item.rel), st.size);
  // Awaited in order later; until then a failure must not count as unhandled.
  data.catch(() => undefined);
  return { item, data, bytes: st.size };
}

async function* walkTree(root: string, rel: string, names?: string[]): AsyncGenerator<LayerItem> {
  const dirPath = rel === "" ? root : join(root, rel);
  const list = sortByBytes(names ?? (await readdir(dirPath)));
  const stats = await Promise.all(list.map((n) => lstat(join(dirPath, n))));
  for (let i = 0; i < list.length; i++) {
    const childRel = rel === "" ? list[i] : `${rel}/${list[i]}`;
    yield { rel: childRel, name: list[i], st: stats[i] };
    if (stats[i].isDirectory()) yield* walkTree(root, childRel);
  }
}

/** Names sorted by their UTF-8 bytes, as tar readers and upstream's differ order them. */
function sortByBytes(names: readonly string[]): string[] {
  const keyed = names.map((n) => ({ n, b: Buffer.from(n) }));
  keyed.sort((x, y) => Buffer.compare(x.b, y.b));
  return keyed.map((k) => k.n);
}

/**
 * Reads a file expected to hold `size` bytes with one open/read/close in the usual case. It asks for one
 * byte more, so a file that grew shows as longer than `size` and the writer can refuse it.
 */
export function readSmallFile(path: string, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    open(path, "r", (openErr, fd) => {
      if (openErr) return reject(openErr);
      const buf = Buffer.allocUnsafe(size + 1);
      let got = 0;
      const finish = (err: Error | null): void => {
        close(fd, (closeErr) => {
          const e = err ?? closeErr;
          if (e) reject(e);
          else resolve(buf.subarray(0, got));
        });
      };
      const step = (): void => {
        read(fd, buf, got, buf.length - got, null, (readErr, n) => {
          if (readErr) return finish(readErr);
          got += n;
          // A regular file reads short only at its end: stop there, or when the extra byte came in.
          if (n === 0 || got === buf.length || got === size) return finish(null);
          step();
        });
      };
      step();
    });
  });
}
