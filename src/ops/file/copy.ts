// FileOp `copy` action: Docker COPY/ADD semantics over two root directories (upstream backend.go
// `docopy` + fsutil `copy.Copy`). Each source (each wildcard match) is copied on its own, in order.
import type { Stats } from "node:fs";
import { lstat, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GantryError, isNotFound, throwIfAborted } from "../../util/errors.js";
import { Limiter } from "../../util/limiter.js";
import { createPatternMatcher, type PatternMatcher } from "../../util/pattern-matcher.js";
import { fsError, isErrno } from "./fs-error.js";
import { cleanActionPath, goBase, goClean, goSplit } from "./go-path.js";
import { mkdirAll } from "./mkdir-all.js";
import type { Owner } from "./resolve-owner.js";
import { displayPath, resolveInRoot } from "./root-path.js";
import { TreeCopier } from "./tree-copier.js";
import { isArchive, untar } from "./untar.js";
import { resolveWildcards } from "./wildcards.js";

/** Options of the copy action; field names follow `pb.FileActionCopy`. Paths are inside their roots. */
export interface CopyOptions {
  src: string;
  /** A trailing `/` means "into this directory". */
  dest: string;
  /** Owner of everything copied and of the destination dirs created; undefined keeps source owners. */
  owner?: Owner;
  /** `--chmod`: replaces permission bits (0o777) of copied entries; undefined keeps the source's. */
  mode?: number;
  /** Follow a symlink named as the source (symlinks inside directories are always copied as links). */
  followSymlink?: boolean;
  /** A directory source copies its contents into dest rather than itself. */
  dirCopyContents?: boolean;
  /** ADD: a source that is a (compressed) tar archive is extracted into dest. */
  attemptUnpackDockerCompatibility?: boolean;
  /** Create missing parents of dest; otherwise dest's parent must exist. */
  createDestPath?: boolean;
  allowWildcard?: boolean;
  /** With allowWildcard: a pattern matching nothing is success rather than NotFound. */
  allowEmptyWildcard?: boolean;
  /** atime/mtime of everything copied or created; undefined keeps the sources' times. */
  timestamp?: Date;
  /** Only paths (relative to a directory source) matching these are copied. */
  includePatterns?: string[];
  /** Paths matching these are not copied (`!` patterns re-include). */
  excludePatterns?: string[];
  /** Replace an existing dest entry of another type instead of failing. */
  alwaysReplaceExistingDestPaths?: boolean;
  /** Bounds the entries copied at once (each holds one slot for its fs calls); a fresh Limiter(32) when absent. */
  limiter?: Limiter;
  signal?: AbortSignal;
}

/**
 * Copies `src` from `srcRoot` to `dest` in `destRoot`. Errors: NotFound for a missing source, with the
 * text `"/src": not found`, or for a wildcard matching nothing (unless allowEmptyWildcard);
 * InvalidArgument for a bad include/exclude pattern; FailedPrecondition when a file must replace a
 * directory; the fs error otherwise. Canceled when the signal fires.
 */
export async function copy(srcRoot: string, destRoot: string, opts: CopyOptions): Promise<void> {
  throwIfAborted(opts.signal);
  const srcPath = cleanActionPath(opts.src);
  const destPath = cleanActionPath(opts.dest);
  if (!opts.createDestPath) await checkDestParent(destRoot, opts.dest);
  const include = compilePatterns(opts.includePatterns, "include");
  const exclude = compilePatterns(opts.excludePatterns, "exclude");
  const sources = await listSources(srcRoot, srcPath, opts);
  const limiter = opts.limiter ?? new Limiter(32);
  for (const s of sources) {
    throwIfAborted(opts.signal);
    if (opts.attemptUnpackDockerCompatibility && (await unpack(srcRoot, s, destRoot, destPath, opts))) continue;
    await copyOne(srcRoot, s, destRoot, destPath, { ...opts, limiter, include, exclude });
  }
}

async function checkDestParent(destRoot: string, dest: string): Promise<void> {
  const p = await resolveInRoot(destRoot, dest);
  try {
    await lstat(dirname(p));
  } catch (err) {
    const inner = fsError("lstat", displayPath(destRoot, dirname(p)), err);
    throw new GantryError(inner.code, `failed to stat ${dest}: ${inner.message}`, { cause: inner });
  }
}

function compilePatterns(patterns: string[] | undefined, kind: string): PatternMatcher | undefined {
  if (patterns === undefined || patterns.length === 0) return undefined;
  try {
    return createPatternMatcher(patterns);
  } catch (err) {
    throw new GantryError("InvalidArgument", `Invalid ${kind} patterns ${JSON.stringify(patterns)}: ${(err as Error).message}`,
      { cause: err });
  }
}

async function listSources(srcRoot: string, srcPath: string, opts: CopyOptions): Promise<string[]> {
  if (!opts.allowWildcard) return [srcPath];
  let matches: string[];
  try {
    matches = await resolveWildcards(srcRoot, srcPath, opts.followSymlink ?? false);
  } catch (err) {
    if (isNotFound(err)) throw notFound(srcPath, err);
    throw err;
  }
  if (matches.length === 0 && !opts.allowEmptyWildcard) throw notFound(srcPath);
  return matches;
}

function notFound(src: string, cause?: unknown): GantryError {
  // The `"/x": not found` part is the text upstream's users (and the conformance corpus) look for.
  return new GantryError("NotFound", `Cannot copy ${JSON.stringify(goClean("/" + src))}: not found`, { cause });
}

type CopyOneOptions = CopyOptions & { limiter: Limiter; include?: PatternMatcher; exclude?: PatternMatcher };

/** fsutil's Copy for one source: make dest's directory, pick the target path, copy the tree. */
async function copyOne(srcRoot: string, src: string, destRoot: string, destPath: string, opts: CopyOneOptions): Promise<void> {
  const meta = { owner: opts.owner, timestamp: opts.timestamp, root: destRoot };
  const { dir, file } = goSplit(destPath);
  const ensure = file !== "" && file !== "." ? dir : destPath;
  const created = await mkdirAll(await resolveInRoot(destRoot, ensure), { ...meta, mode: 0o755 });
  const dstHost = await resolveInRoot(destRoot, goClean(destPath));
  const srcHost = await resolveInRoot(srcRoot, src, { followFinal: opts.followSymlink ?? false });
  let srcSt: Stats;
  try {
    srcSt = await lstat(srcHost);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) throw notFound(src, err);
    throw fsError("lstat", displayPath(srcRoot, srcHost), err);
  }
  const destSt = await statDest(dstHost, destRoot);
  let target = dstHost;
  if ((!opts.dirCopyContents && srcSt.isDirectory() && destSt !== undefined) ||
      (!srcSt.isDirectory() && destSt?.isDirectory())) {
    target = join(dstHost, goBase(src));
  }
  // v0.11 makes dest dirs 0755 even with --chmod: a directory's contents get the mode, not dest itself.
  const parent = opts.dirCopyContents && srcSt.isDirectory() && destSt === undefined ? target : dirname(target);
  created.push(...await mkdirAll(parent, { ...meta, mode: 0o755 }));
  const copier = new TreeCopier({
    srcRoot, destRoot, limiter: opts.limiter, owner: opts.owner, mode: opts.mode, timestamp: opts.timestamp,
    include: opts.include, exclude: opts.exclude, signal: opts.signal,
    alwaysReplaceExistingDestPaths: opts.alwaysReplaceExistingDestPaths,
  });
  await copier.copy(srcHost, target);
  // Copying into the dirs made above changed their times; put the requested timestamp back.
  if (opts.timestamp !== undefined) {
    for (const d of created.reverse()) await utimes(d, opts.timestamp, opts.timestamp);
  }
}

async function statDest(hostPath: string, root: string): Promise<Stats | undefined> {
  try {
    return await stat(hostPath);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw fsError("stat", displayPath(root, hostPath), err);
  }
}

/** ADD: extracts `src` into dest when it is a local archive; false when it is not one. */
async function unpack(srcRoot: string, src: string, destRoot: string, destPath: string, opts: CopyOptions): Promise<boolean> {
  const srcHost = await resolveInRoot(srcRoot, src);
  if (!(await isArchive(srcHost))) return false;
  const destHost = await resolveInRoot(destRoot, destPath);
  await mkdirAll(destHost, { mode: 0o755, owner: opts.owner, timestamp: opts.timestamp, root: destRoot });
  await untar(srcHost, destHost, { signal: opts.signal });
  return true;
}
