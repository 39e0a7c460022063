// Loads a CommonJS bundle through `vm.Script` with a V8 code cache. Node 20 caches no compiled user code
// between runs (`module.enableCompileCache` is Node 22), so every `gantry build` used to parse and compile
// the whole engine again: ~40 ms of top-level compiles plus lazy compiles of each function on first call.
// scripts/bundle.mjs writes the cache at build time after a warm-up build, so it holds the functions a
// build runs. A missing, stale or damaged cache only costs that time back: the bundle loads without it.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

/** What happened to the code cache on a load: reported by `loadCommonJs`, used by tests and the warm-up. */
export type CodeCacheState = "accepted" | "rejected" | "absent" | "off";

/** The result of `loadCommonJs`: the bundle's `module.exports` and what the cache did. */
export interface LoadedBundle {
  exports: unknown;
  cache: CodeCacheState;
}

/** How `loadCommonJs` treats the cache. */
export interface LoadOptions {
  /** The cache file; without one the bundle loads uncached. */
  cacheFile?: string;
  /** Write the cache when the process exits (after the functions it ran are compiled), replacing any old one. */
  writeOnExit?: boolean;
}

// A cache file is sha256(bundle path, payload) followed by V8's payload. V8 checks its own version, flags
// and the source length, but in release builds not a checksum of the payload: a damaged file must stop
// here. And V8 keeps the file name the cache was made under (stack traces, source maps show it), so a cache
// made for another path (a moved install) is not used either.
const SUM_BYTES = 32;

function checksum(bundle: string, payload: Uint8Array): Buffer {
  return createHash("sha256").update(bundle).update("\0").update(payload).digest();
}

/**
 * Where the cache for `bundle` lives: beside it, keyed by the bundle's content hash (known at build time)
 * and by this process's V8 version and CPU architecture, whose code caches are not interchangeable.
 */
export function codeCacheFile(bundle: string, bundleHash: string): string {
  const v8 = process.versions.v8.replace(/[^0-9A-Za-z.-]/g, "_");
  return `${bundle}.${bundleHash.slice(0, 16)}.v8-${v8}-${process.arch}.cache`;
}

/**
 * Reads a cache file that `writeCodeCache` wrote for `bundle`; `undefined` if it is missing, unreadable,
 * damaged or made for a bundle at another path.
 */
export function readCodeCache(file: string, bundle: string): Buffer | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch {
    return undefined;
  }
  if (raw.length <= SUM_BYTES) return undefined;
  const payload = raw.subarray(SUM_BYTES);
  return checksum(bundle, payload).equals(raw.subarray(0, SUM_BYTES)) ? payload : undefined;
}

/**
 * Writes V8 cache data for `bundle` so that a reader sees the old file or the new one, never half of one.
 * Throws the file system's error (read-only install, permissions); callers without need of it ignore it.
 */
export function writeCodeCache(file: string, bundle: string, data: Uint8Array): void {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const sum = checksum(bundle, data);
  try {
    writeFileSync(tmp, Buffer.concat([sum, data]), { flag: "wx", mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Compiles a CommonJS file as Node's own loader would wrap it, with `cachedData` if given. */
export function compileCommonJs(file: string, cachedData?: Buffer): Script {
  let source = readFileSync(file, "utf8");
  // A `#!` line is legal only at the very start of a script; inside the wrapper it becomes a comment.
  if (source.startsWith("#!")) source = `//${source.slice(2)}`;
  // The wrapper shares the source's first line, so line numbers (and source maps) stay as written.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  return new Script(wrapped, { filename: file, cachedData });
}

/**
 * Loads `file` as a CommonJS module (its own `require`, `module`, `__filename`) and returns its exports.
 * The cache is only ever an input to V8: any problem with it falls back to compiling the source. With
 * source maps enabled it loads through `require`, uncached, so that stack traces map to the sources.
 */
export function loadCommonJs(file: string, options: LoadOptions = {}): LoadedBundle {
  // Node applies source maps (--enable-source-maps) only to code its own loaders compiled: leave it to them.
  if (process.sourceMapsEnabled) return { exports: createRequire(file)(file), cache: "off" };
  const { cacheFile } = options;
  const data = cacheFile === undefined ? undefined : readCodeCache(cacheFile, file);
  const script = compileCommonJs(file, data);
  let cache: CodeCacheState = "off";
  if (cacheFile !== undefined) cache = data === undefined ? "absent" : script.cachedDataRejected ? "rejected" : "accepted";
  if (cacheFile !== undefined && options.writeOnExit) writeAtExit(script, file, cacheFile);
  const fn: unknown = script.runInThisContext();
  if (typeof fn !== "function") throw new TypeError(`${file} did not compile to a module wrapper.`);
  const module = { exports: {} as unknown };
  fn.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, cache };
}

function writeAtExit(script: Script, file: string, cacheFile: string): void {
  process.once("exit", () => {
    try {
      writeCodeCache(cacheFile, file, script.createCachedData());
    } catch (err) {
      process.stderr.write(`gantry: could not write the code cache ${cacheFile}: ${String(err)}\n`);
    }
  });
}

/**
 * The bundles' entry stubs call this: loads `bundle` (a file URL) with its code cache. GANTRY_CODE_CACHE
 * =off loads without the cache (to compare), =write also rewrites it at exit (the build's warm-up does).
 */
export function requireBundle(bundle: URL, bundleHash: string): unknown {
  const file = fileURLToPath(bundle);
  const mode = process.env.GANTRY_CODE_CACHE;
  const cacheFile = mode === "off" ? undefined : codeCacheFile(file, bundleHash);
  return loadCommonJs(file, { cacheFile, writeOnExit: mode === "write" }).exports;
}
