// Applying an uncompressed OCI layer tar into an empty layer directory, in overlay form.
//
// How: the bytes are hashed (diffId), parsed by tar-stream to validate every entry name and to note the
// OCI whiteouts, and — unchanged — fed to GNU tar, which writes the files. GNU tar keeps everything the
// kernel can store (modes incl. setuid/sticky, numeric owners, nanosecond mtimes set after children,
// binary xattrs such as security.capability, devices, fifos, hardlinks, long names) in C, with no
// per-entry await on our side, so tens of thousands of files extract at disk speed. tar-stream alone
// cannot do that: it decodes PAX values as UTF-8 (corrupting binary xattrs) and Node cannot mknod.
// Afterwards the noted `.wh.<name>` markers become 0/0 character devices and `.wh..wh..opq` markers become
// the `trusted.overlay.opaque=y` xattr, each in one batched tool call (see overlay-whiteouts.ts).
import { rm, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable, Writable } from "node:stream";
import { extract, type Header } from "tar-stream";
import { DigestHasher, type Digest } from "../util/digest.js";
import { canceledError, GantryError, throwIfAborted } from "../util/errors.js";
import { createWhiteouts, setOpaqueDirs } from "./overlay-whiteouts.js";
import { startTool, type RunningTool } from "./run-tool.js";

export interface ApplyLayerOptions {
  signal?: AbortSignal;
}

export interface AppliedLayer {
  /** sha256 of the uncompressed tar stream, as the image config's rootfs.diff_ids lists it. */
  diffId: Digest;
  /** Bytes of the uncompressed tar stream. */
  size: number;
}

const WH_PREFIX = ".wh.";
const WH_OPAQUE = ".wh..wh..opq";

const TAR_ARGS = ["-x", "-f", "-", "--numeric-owner", "--same-owner", "--same-permissions", "--xattrs",
  "--xattrs-include=*", "--delay-directory-restore", "--warning=no-unknown-keyword", "--warning=no-timestamp"];

/**
 * Extracts the uncompressed layer tar `tarStream` into `dir` (an existing, normally empty directory) in
 * overlay form and returns its diffId. Entry names with `..` or paths through a symlink of the layer are
 * InvalidArgument; a broken tar is Internal; abort is Canceled. On failure `dir` holds partial content
 * that the caller discards. Consumes `tarStream` to its end.
 */
export async function applyLayer(tarStream: Readable, dir: string, opts: ApplyLayerOptions = {}): Promise<AppliedLayer> {
  throwIfAborted(opts.signal);
  const entries = new LayerEntries();
  const parser = extract();
  parser.on("entry", (header, body, next) => {
    // The parser destroys the current body with its own error; that error is reported by the parser.
    body.on("error", () => undefined);
    try {
      entries.add(header);
    } catch (err) {
      body.resume();
      return next(err as Error);
    }
    body.on("end", () => next());
    body.resume();
  });
  const tar = startTool("tar", [...TAR_ARGS, "-C", dir], { pipeStdin: true, signal: opts.signal });
  const hasher = new DigestHasher();
  try {
    await feed(tarStream, parser, tar, hasher, opts.signal);
    await tar.done;
  } catch (err) {
    tar.child.kill();
    await tar.done.catch(() => undefined);
    throw entries.error ?? err;
  }
  await entries.finish(dir, opts.signal);
  return { diffId: hasher.digest(), size: hasher.size };
}

// Streams every chunk into the hasher, the parser and tar's stdin, honouring both sinks' backpressure.
async function feed(src: Readable, parser: ReturnType<typeof extract>, tar: RunningTool, hasher: DigestHasher,
  signal?: AbortSignal): Promise<void> {
  const stdin = tar.child.stdin!;
  let failure: Error | undefined;
  let tarGone = false;
  let wake: () => void = () => undefined;
  const fail = (e: Error): void => {
    failure ??= e;
    wake();
  };
  parser.on("error", fail);
  // GNU tar stops reading after the end-of-archive blocks; trailing padding then meets a closed pipe.
  const gone = (): void => {
    tarGone = true;
    wake();
  };
  stdin.on("error", gone);
  stdin.on("close", gone);
  tar.done.then(gone, fail);
  for await (const chunk of src as AsyncIterable<Buffer>) {
    if (signal?.aborted) throw canceledError(signal);
    if (failure) throw failure;
    hasher.update(chunk);
    const parserFull = !parser.write(chunk);
    const stdinFull = !tarGone && !stdin.write(chunk);
    if (failure) throw failure;
    if (parserFull || stdinFull) await drainBoth(parser, parserFull, stdin, stdinFull, (w) => (wake = w));
  }
  if (failure) throw failure;
  if (!tarGone) stdin.end();
  await new Promise<void>((resolve, reject) => {
    parser.once("error", reject);
    parser.once("finish", () => resolve());
    parser.end(null);
  });
  if (failure) throw failure;
}

// Waits until each full sink drains, or until a failure or tar's exit calls the wake-up function.
function drainBoth(parser: ReturnType<typeof extract>, parserFull: boolean, stdin: Writable, stdinFull: boolean,
  setWake: (w: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    let pending = (parserFull ? 1 : 0) + (stdinFull ? 1 : 0);
    const one = (): void => {
      if (--pending === 0) done();
    };
    const done = (): void => {
      parser.off("drain", one);
      stdin.off("drain", one);
      setWake(() => undefined);
      resolve();
    };
    setWake(done);
    if (parserFull) parser.once("drain", one);
    if (stdinFull) stdin.once("drain", one);
  });
}

/** Normalises a tar entry name to a relative path; InvalidArgument when it would leave the layer. */
export function cleanLayerPath(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw new GantryError("InvalidArgument", `Cannot apply layer: entry "${name}" points outside the layer directory.`);
  }
  return parts.join("/");
}

// What the layer's headers tell us: whiteout markers to convert, directory mtimes to restore afterwards.
class LayerEntries {
  error?: GantryError;
  readonly #markers: string[] = [];
  readonly #whiteouts: string[] = [];
  readonly #opaque: string[] = [];
  readonly #dirMtimes = new Map<string, number>();
  readonly #symlinks = new Set<string>();

  add(h: Header): void {
    try {
      this.#add(h);
    } catch (err) {
      if (err instanceof GantryError) this.error ??= err;
      throw err;
    }
  }

  #add(h: Header): void {
    const rel = cleanLayerPath(h.name);
    this.#checkNoSymlinkAncestor(rel, h.name);
    if (h.type === "link") this.#checkNoSymlinkAncestor(cleanLayerPath(h.linkname ?? ""), h.linkname ?? "");
    if (h.type === "symlink") this.#symlinks.add(rel);
    else this.#symlinks.delete(rel);
    if (h.type === "directory") this.#dirMtimes.set(rel, mtimeSeconds(h));
    const base = posix.basename(rel);
    if (!base.startsWith(WH_PREFIX)) return;
    const parent = posix.dirname(rel) === "." ? "" : posix.dirname(rel);
    this.#markers.push(rel);
    if (base === WH_OPAQUE) this.#opaque.push(parent);
    // Other `.wh..wh.` names are AUFS bookkeeping: dropped, as containerd does.
    else if (!base.startsWith(`${WH_PREFIX}${WH_PREFIX}`)) this.#whiteouts.push(posix.join(parent, base.slice(WH_PREFIX.length)));
  }

  #checkNoSymlinkAncestor(rel: string, name: string): void {
    if (this.#symlinks.size === 0) return;
    for (let i = rel.indexOf("/"); i >= 0; i = rel.indexOf("/", i + 1)) {
      if (this.#symlinks.has(rel.slice(0, i))) {
        throw new GantryError("InvalidArgument", `Cannot apply layer: entry "${name}" goes through a symlink of the layer.`);
      }
    }
  }

  /** Turns the extracted markers into overlay whiteouts and puts back the mtimes of the dirs touched. */
  async finish(dir: string, signal?: AbortSignal): Promise<void> {
    if (this.#markers.length === 0) return;
    const gone = [...this.#markers, ...this.#whiteouts];
    for (let i = 0; i < gone.length; i += 64) {
      await Promise.all(gone.slice(i, i + 64).map((rel) => rm(join(dir, rel), { recursive: true, force: true })));
    }
    await createWhiteouts(dir, this.#whiteouts, { signal });
    await setOpaqueDirs(dir, this.#opaque, { signal });
    const parents = new Set(this.#markers.map((m) => (posix.dirname(m) === "." ? "" : posix.dirname(m))));
    for (const p of parents) {
      const t = this.#dirMtimes.get(p);
      if (t !== undefined) await utimes(join(dir, p), t, t);
    }
  }
}

// PAX mtimes carry sub-second precision that `header.mtime` (a Date) rounds away.
function mtimeSeconds(h: Header): number {
  const pax = h.pax as Record<string, string> | null | undefined;
  const fromPax = pax?.mtime !== undefined ? Number(pax.mtime) : NaN;
  return Number.isFinite(fromPax) ? fromPax : h.mtime.getTime() / 1000;
}
