// The bridge a frontend runs against inside the engine: sub-solves share the build's solver, session and
// progress; files are read from results through read-only mounts. It mirrors upstream's LLBBridge calls.
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { Stats } from "node:fs";
import type { BridgeRef, FileStat, Frontend, FrontendBridge, FrontendResult, ResolvedImageConfig } from "../frontend/frontend.js";
import type { FrontendCaller } from "../frontend/gateway/frontend-caller.js";
import { loadDefinition } from "../llb/definition.js";
import { isWhiteoutStat } from "../oci/overlay-whiteouts.js";
import { formatPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import type { BuildContext } from "../ops/build-context.js";
import { resolveInRoot } from "../ops/file/root-path.js";
import { llbGraph, type LlbPayload } from "../ops/llb-graph.js";
import type { OpDeps } from "../ops/op-deps.js";
import { soleLayerDir } from "../ops/sole-layer.js";
import { WorkerRef } from "../ops/worker-ref.js";
import type { Solver } from "../solver/solver.js";
import { sha256 } from "../util/digest.js";
import { GantryError, errnoOf, messageOf } from "../util/errors.js";
import type { ProgressSink } from "../util/progress-event.js";
import { createPatternMatcher } from "../util/pattern-matcher.js";

export interface BridgeOptions {
  solver: Solver<LlbPayload, WorkerRef>;
  deps: OpDeps;
  build: BuildContext;
  progress: ProgressSink;
  noCache: boolean;
  signal?: AbortSignal;
  /** Frontends by name, for frontends that hand the build to another (`# syntax=` → gateway.v0). */
  frontends?: (name: string) => Frontend | undefined;
}

/** Go's os.FileMode type bits, as fsutil's Stat carries them. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

export class EngineBridge implements FrontendBridge, FrontendCaller {
  readonly #o: BridgeOptions;
  readonly #refs = new Map<string, WorkerRef>();
  #warnDigest: string;
  #firstSolve = true;
  readonly #resolved = new Map<string, Promise<ResolvedImageConfig>>();

  constructor(opts: BridgeOptions) {
    this.#o = opts;
    this.#warnDigest = sha256(`${opts.build.session.id}-frontend-warnings`);
  }

  async solve(definition: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<BridgeRef> {
    const def = definition.length === 0 ? undefined : loadDefinition(definition);
    // Warnings go on the frontend's first vertex (the Dockerfile load), as upstream's frontend attaches them.
    if (def && this.#firstSolve) this.#warnDigest = def.terminal.digest;
    this.#firstSolve = false;
    const result = def
      ? await this.#o.solver.solve(llbGraph(def, this.#o.build, { noCache: this.#o.noCache }), { signal: opts.signal ?? this.#o.signal, progress: this.#o.progress })
      : WorkerRef.scratch();
    const id = `ref-${this.#refs.size}-${result.id}`;
    this.#refs.set(id, result);
    return { id };
  }

  /** The engine result behind `ref` (still owned by this bridge). NotFound for a ref it did not hand out. */
  resultOf(ref: BridgeRef): WorkerRef {
    const r = this.#refs.get(ref.id);
    if (!r) throw new GantryError("NotFound", `Unknown result ${ref.id}.`);
    return r;
  }

  /** The build's session id (gateway frontends get it in their environment). */
  get sessionId(): string {
    return this.#o.build.session.id;
  }

  async solveFrontend(name: string, attrs: Record<string, string>, opts: { signal?: AbortSignal } = {}): Promise<FrontendResult> {
    const fe = this.#o.frontends?.(name);
    if (!fe) throw new GantryError("InvalidArgument", `Unknown frontend "${name}": this build cannot run it.`);
    return fe.solve(this, attrs, { signal: opts.signal ?? this.#o.signal });
  }

  /**
   * Runs `fn` on a directory holding the result's files: a one-layer overlay result is read in place (its
   * layer directory; `inPlace` true: whiteouts there read as missing), anything else through a read-only
   * mount. Reading the Dockerfile and .dockerignore then costs no view snapshot, mount or unmount.
   */
  async #withRoot<T>(ref: BridgeRef, fn: (dir: string, inPlace: boolean) => Promise<T>): Promise<T> {
    const r = this.#refs.get(ref.id);
    if (!r) throw new GantryError("NotFound", `Unknown result ${ref.id}.`);
    const layer = await soleLayerDir(this.#o.deps, r.ref);
    // The bridge holds `r` until release(), so its layer stays while it is read.
    if (layer !== undefined) return fn(layer, true);
    const view = await this.#o.deps.refs.mountReadonly(r.ref, { signal: this.#o.signal });
    try {
      return await fn(view.dir, false);
    } finally {
      await view.release();
    }
  }

  readFile(ref: BridgeRef, path: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    return this.#withRoot(ref, async (dir, inPlace) => {
      try {
        const host = await resolveInRoot(dir, path);
        if (inPlace && isWhiteoutStat(await lstat(host))) throw notFound(path);
        const fh = await open(host, "r");
        try {
          if (!range) return await fh.readFile();
          const buf = Buffer.alloc(range.length);
          const { bytesRead } = await fh.read(buf, 0, range.length, range.offset);
          return buf.subarray(0, bytesRead);
        } finally {
          await fh.close();
        }
      } catch (err) {
        if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") throw notFound(path, err);
        if (errnoOf(err) === "EISDIR") throw new GantryError("InvalidArgument", `Cannot read ${path}: it is a directory, not a file.`, { cause: err });
        throw err;
      }
    });
  }

  readDir(ref: BridgeRef, path: string, includePattern?: string): Promise<FileStat[]> {
    return this.#withRoot(ref, async (dir, inPlace) => {
      const host = await resolveInRoot(dir, path);
      const matcher = includePattern ? createPatternMatcher([includePattern]) : undefined;
      const names = (await readdir(host)).sort().filter((n) => !matcher || matcher.matches(n));
      const stats = await Promise.all(names.map(async (n) => statOf(n, join(host, n), inPlace)));
      return stats.filter((st): st is FileStat => st !== undefined);
    });
  }

  statFile(ref: BridgeRef, path: string): Promise<FileStat> {
    return this.#withRoot(ref, async (dir, inPlace) => {
      const st = await statOf(path, await resolveInRoot(dir, path, { followFinal: false }), inPlace);
      if (!st) throw notFound(path);
      return st;
    });
  }

  resolveImageConfig(ref: string, opts: { platform?: Platform; signal?: AbortSignal }): Promise<ResolvedImageConfig> {
    const platform = opts.platform ?? this.#o.build.platform;
    const key = `${ref} ${formatPlatform(platform)}`;
    // Stages FROM the same image ask once, and show one "load metadata" step, as upstream does.
    let p = this.#resolved.get(key);
    if (!p) {
      p = this.#resolve(ref, platform, opts.signal);
      this.#resolved.set(key, p);
      p.catch(() => this.#resolved.delete(key));
    }
    return p;
  }

  async #resolve(ref: string, platform: Platform, signal?: AbortSignal): Promise<ResolvedImageConfig> {
    const digest = sha256(`resolve ${ref} ${formatPlatform(platform)}`);
    const name = `[internal] load metadata for ${ref}`;
    const started = new Date();
    this.#o.progress({ type: "vertex", digest, inputs: [], name, started });
    try {
      const img = await this.#o.deps.resolver.resolve(ref, { platform, signal: signal ?? this.#o.signal });
      this.#o.progress({ type: "vertex", digest, inputs: [], name, started, completed: new Date() });
      return { ref: img.name, digest: img.digest, config: img.raw.config };
    } catch (err) {
      this.#o.progress({ type: "vertex", digest, inputs: [], name, started, completed: new Date(), error: messageOf(err) });
      throw err;
    }
  }

  async inputs(): Promise<Record<string, Uint8Array>> {
    return {};
  }

  warn(w: Parameters<FrontendBridge["warn"]>[0]): void {
    this.#o.progress({
      type: "warning", vertex: this.#warnDigest, level: w.level ?? 1, short: w.short, detail: w.detail ?? [], ...(w.url ? { url: w.url } : {}),
      ...(w.location ? { source: { filename: w.location.filename, language: "Dockerfile" } } : {}),
      ...(w.ranges?.length ? { ranges: w.ranges } : {}),
    });
  }

  /** Releases every result the frontend solved. */
  async release(): Promise<void> {
    for (const r of this.#refs.values()) await r.release();
    this.#refs.clear();
  }
}

/** The stat of `host`; undefined for a whiteout when `inPlace` (reading a layer directory, not a mount). */
async function statOf(path: string, host: string, inPlace: boolean): Promise<FileStat | undefined> {
  let st: Stats;
  try {
    st = await lstat(host);
  } catch (err) {
    if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") throw notFound(path, err);
    throw err;
  }
  if (inPlace && isWhiteoutStat(st)) return undefined;
  const type = st.isDirectory() ? MODE_DIR : st.isSymbolicLink() ? MODE_SYMLINK : 0;
  return {
    path, mode: type + (st.mode & 0o777), uid: st.uid, gid: st.gid, size: st.isFile() ? st.size : 0,
    modTime: Math.floor(st.mtimeMs * 1e6), ...(st.isSymbolicLink() ? { linkname: await readlink(host) } : {}),
  };
}

function notFound(path: string, cause?: unknown): GantryError {
  return new GantryError("NotFound", `${path}: no such file or directory`, cause === undefined ? {} : { cause });
}
