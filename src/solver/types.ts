// The solver's view of the world: a graph of vertices whose work is done by `Op`s it does not know, and
// the storage ports that remember results. The solver imports only util/; ops/ and cache/ fill these in.
import type { VertexProgress } from "./progress.js";

/** A reference to an output of a vertex. */
export interface Edge<P> {
  vertex: Vertex<P>;
  index: number;
}

/** One node of the build graph. `digest` identifies it within a solve and dedupes identical work. */
export interface Vertex<P> {
  readonly digest: string;
  readonly name: string;
  readonly inputs: readonly Edge<P>[];
  /** The op description (for LLB: the decoded pb.Op), handed to the OpResolver. */
  readonly payload: P;
  readonly options: VertexOptions;
}

export interface VertexOptions {
  /** Skip cache lookups for this vertex (still saves its result). */
  ignoreCache?: boolean;
  progressGroup?: { id: string; name: string; weak?: boolean };
  description?: Record<string, string>;
}

/**
 * A result the solver hands between ops. Results are reference-counted: every holder releases its
 * reference exactly once; `clone` gives a new reference to the same content.
 */
export interface Result {
  /** A stable id for the content (e.g. a committed snapshot name), used in logs and cache records. */
  readonly id: string;
  clone(): Result;
  release(): Promise<void>;
}

/** Context an op gets while computing its cache map or executing. */
export interface OpContext {
  readonly signal: AbortSignal;
  readonly progress: VertexProgress;
}

/** Per-input cache information. */
export interface CacheMapDep<R extends Result> {
  /** Mixed into the input's key: which part of the input the op reads (e.g. copied paths). */
  selector?: string;
  /**
   * Content-based key: a digest of the selected content of the input's result. When given, the solver
   * also looks the vertex up by this digest instead of the input's key, so an edit elsewhere in the input
   * keeps this vertex cached.
   */
  computeDigest?: (input: R, ctx: OpContext) => Promise<string>;
}

export interface CacheMap<R extends Result> {
  /** The op's own key material (op digest minus fields that do not change the result). */
  digest: string;
  deps: CacheMapDep<R>[];
}

/**
 * The work behind a vertex. `cacheMap` may be called before inputs have run; `exec` gets one result per
 * vertex input (owned by the solver: clone to keep) and returns one new reference per op output.
 */
export interface Op<R extends Result> {
  cacheMap(ctx: OpContext): Promise<CacheMap<R>>;
  exec(ctx: OpContext, inputs: readonly R[]): Promise<R[]>;
  /** Optional: hold a concurrency slot (e.g. an exec slot) for the duration of exec. */
  acquire?(signal: AbortSignal): Promise<() => void>;
  /** Source ops whose content can change while their definition does not (local dirs) set this. */
  readonly alwaysRun?: boolean;
}

/** Builds the Op for a vertex. Called once per distinct vertex digest while it is active. */
export type OpResolver<P, R extends Result> = (vertex: Vertex<P>) => Op<R>;

/** A cache key: a digest over the op's cache map digest, output index and its inputs' keys. */
export type CacheKey = string & { readonly __cacheKey: true };

/**
 * Storage port for results by cache key. `load` returns a new reference the caller owns, or undefined;
 * `save` records a result under a key (the storage clones what it keeps). Implementations: in-memory
 * (solver/memory-result-storage.ts) and SQLite-backed (cache/).
 */
export interface CacheResultStorage<R extends Result> {
  load(key: CacheKey, signal?: AbortSignal): Promise<R | undefined>;
  save(key: CacheKey, result: R, info: { vertexName: string }): Promise<void>;
}

/** One dependency of a solved key: an input's key (or content digest) and the op's selector for it. */
export interface SolvedKeyDep {
  key: string;
  selector?: string;
}

/**
 * One output of a vertex as a finished solve resolved it (cache export walks these). `result` is borrowed:
 * clone it to keep it past the callback.
 */
export interface SolvedOutput<R extends Result> {
  vertexDigest: string;
  vertexName: string;
  output: number;
  /** The keys the output is known by, each with the input keys it was computed from. */
  keys: { key: CacheKey; deps: SolvedKeyDep[] }[];
  result: R;
  /** Loaded from the cache rather than executed. */
  cached: boolean;
}
