// The generic scheduler: loads a graph of vertices into shared states keyed by vertex id (so identical
// work in one graph or in concurrent solves runs once), resolves the target lazily through cache keys,
// and gives each solve its own progress stream and cancellation. It knows the Op interface, not the ops.
import { availableParallelism } from "node:os";
import { sha256 } from "../util/digest.js";
import { GantryError, throwIfAborted } from "../util/errors.js";
import { Limiter } from "../util/limiter.js";
import { Job } from "./job.js";
import type { ProgressSink } from "./progress.js";
import type { CacheResultStorage, Edge, OpResolver, Result, SolvedOutput, Vertex } from "./types.js";
import { VertexState, type StateEnv } from "./vertex-state.js";

export interface SolverOptions<P, R extends Result> {
  /** Builds the op of a vertex; called once per active vertex id. */
  resolveOp: OpResolver<P, R>;
  /** Where results are looked up and saved by cache key. The solver does not close it. */
  results: CacheResultStorage<R>;
  /** How many ops may execute at once (default: the CPU count). */
  parallelism?: number;
}

export interface SolveOptions<P, R extends Result = Result> {
  /** Aborting cancels the solve: it rejects with Canceled; ops no other solve needs are aborted. */
  signal?: AbortSignal;
  /** Receives this solve's progress events. Must not throw or block. */
  progress?: ProgressSink;
  /** Skip cache lookups for every vertex (true) or the vertices it picks; results are still saved. */
  noCache?: boolean | ((vertex: Vertex<P>) => boolean);
  /**
   * Called once the target is resolved, before the solve lets go of anything: every output the solve
   * resolved that the target depends on, target first (cache export reads keys and results from these).
   * Results are borrowed; clone to keep. Must not throw.
   */
  onSolved?: (outputs: SolvedOutput<R>[]) => void;
}

/** Solves build graphs. One instance serves many concurrent solves and dedupes their shared work. */
export interface Solver<P, R extends Result> {
  /**
   * Produces the result of `target`. The caller owns the returned reference and must release it.
   * Rejects with a VertexError naming the failing vertex, or Canceled when `signal` aborts. Progress
   * events for the solve have all been delivered when the promise settles.
   */
  solve(target: Edge<P>, options?: SolveOptions<P, R>): Promise<R>;
  /** Cancels all running solves and waits until they have released what they held. */
  close(): Promise<void>;
}

/** Creates a solver over the given op resolver and result storage. */
export function createSolver<P, R extends Result>(options: SolverOptions<P, R>): Solver<P, R> {
  return new GraphSolver(options);
}

/** The id a vertex gets when it must not merge with an active vertex that uses the cache. */
export function ignoreCacheId(digest: string): string {
  return sha256(`${digest}-ignorecache`);
}

class GraphSolver<P, R extends Result> implements Solver<P, R> {
  readonly #env: StateEnv<P, R>;
  /** Active states by id: the dedupe point across jobs. */
  readonly #actives = new Map<string, VertexState<P, R>>();
  readonly #jobs = new Map<Job<P, R>, Promise<void>>();
  #closed = false;

  constructor(options: SolverOptions<P, R>) {
    this.#env = {
      resolveOp: options.resolveOp,
      results: options.results,
      limiter: new Limiter(options.parallelism ?? availableParallelism()),
    };
  }

  async solve(target: Edge<P>, options: SolveOptions<P, R> = {}): Promise<R> {
    if (this.#closed) throw new GantryError("FailedPrecondition", "Cannot solve: the solver is closed.");
    throwIfAborted(options.signal);
    const noCache = options.noCache;
    const job = new Job<P, R>({
      progress: options.progress ?? ((): void => undefined),
      noCache: typeof noCache === "function" ? noCache : () => noCache === true,
      signal: options.signal,
    });
    let done!: () => void;
    this.#jobs.set(job, new Promise<void>((resolve) => (done = resolve)));
    let result: R | undefined;
    try {
      const root = this.#load(target.vertex, job, new Map());
      job.announce();
      const resolved = await job.run(root.resolve(target.index));
      result = cloneResult(resolved.result);
      options.onSolved?.(solvedBelow(root));
    } finally {
      const errors = await this.#endJob(job);
      this.#jobs.delete(job);
      done();
      if (result && errors.length > 0) {
        await result.release();
        result = undefined;
        // Only reached on success: a failed solve keeps its own error and the release errors are lost.
        throw new GantryError("Internal", "Cannot release the results of a finished solve.", { cause: errors[0] });
      }
    }
    return result;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const reason = new GantryError("Canceled", "The solve was canceled: the solver is closing.");
    for (const job of this.#jobs.keys()) job.cancel(reason);
    await Promise.all(this.#jobs.values());
  }

  /**
   * Finds or creates the state of `vertex` and attaches the job to it and everything below it. Like
   * upstream: a vertex that ignores the cache does not merge into an active one that uses it (it gets
   * `ignoreCacheId`), but any vertex merges into an active one that ignores the cache.
   */
  #load(vertex: Vertex<P>, job: Job<P, R>, seen: Map<Vertex<P>, VertexState<P, R>>): VertexState<P, R> {
    const known = seen.get(vertex);
    if (known) return known;
    const ignoreCache = vertex.options.ignoreCache === true || job.noCache(vertex);
    const icId = ignoreCacheId(vertex.digest);
    let state = this.#actives.get(icId);
    if (!state) {
      let id = vertex.digest;
      const existing = this.#actives.get(id);
      if (existing && !existing.ignoreCache && ignoreCache) id = icId;
      state = this.#actives.get(id);
      if (!state) {
        const inputs = vertex.inputs.map((e) => ({ state: this.#load(e.vertex, job, seen), index: e.index }));
        state = new VertexState<P, R>({ id, vertex, inputs, ignoreCache, env: this.#env });
        this.#actives.set(id, state);
      }
    }
    job.attach(state);
    seen.set(vertex, state);
    return state;
  }

  /** Detaches the job, stops and frees the states only it held, and closes its progress stream. */
  async #endJob(job: Job<P, R>): Promise<unknown[]> {
    const orphans = job.detach();
    const reason = new GantryError("Canceled", "The vertex is no longer needed by any build.");
    for (const state of orphans) {
      if (this.#actives.get(state.id) === state) this.#actives.delete(state.id);
      state.abort(reason);
    }
    job.finish();
    // Settle all first: a dependant's exec may still be reading an input's result.
    await Promise.all(orphans.map((s) => s.settle()));
    const errors = await Promise.all(orphans.map((s) => s.releaseHeld()));
    return errors.flat();
  }
}

/** The resolved outputs of `root` and every state below it, each state once, `root` first. */
function solvedBelow<P, R extends Result>(root: VertexState<P, R>): SolvedOutput<R>[] {
  const out: SolvedOutput<R>[] = [];
  const seen = new Set<VertexState<P, R>>();
  const visit = (s: VertexState<P, R>): void => {
    if (seen.has(s)) return;
    seen.add(s);
    out.push(...s.solvedOutputs());
    for (const inp of s.inputs) visit(inp.state);
  };
  visit(root);
  return out;
}

/** A new reference to the same result. `Result.clone` is typed to the base interface. */
function cloneResult<R extends Result>(result: R): R {
  return result.clone() as R;
}
