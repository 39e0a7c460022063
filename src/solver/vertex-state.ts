// The shared state of one active vertex: every job whose graph holds the vertex's id uses the same state,
// so its cache map, cache lookups and execution happen once. Work is lazy and top-down: an output is
// resolved by asking for definition keys first (no input runs), then content keys (only the inputs that
// offer a content digest run), and only then are all inputs resolved and the op executed.
import type { Limiter } from "../util/limiter.js";
import { canceledError, isCanceled, messageOf, throwIfAborted, GantryError, VertexError } from "../util/errors.js";
import {
  cacheKeyOf, combineDepKeys, isMatchable, isRandomDigest, uniqueDepKeys, type DepKey, type EdgeKey,
} from "./cache-key.js";
import { CANCELED_VERTEX_ERROR } from "./job-progress.js";
import type { ProgressEvent, VertexEvent, VertexProgress } from "./progress.js";
import type {
  CacheKey, CacheMap, CacheMapDep, CacheResultStorage, Op, OpContext, OpResolver, Result, SolvedOutput, Vertex,
} from "./types.js";
import { createVertexProgress } from "./vertex-progress.js";

/** Receives the events of the vertices a job holds (implemented by the job). */
export interface ProgressListener {
  vertexEvent(event: VertexEvent): void;
  progressEvent(event: ProgressEvent): void;
}

/** An input of a state: which state and which of its outputs. */
export interface InputRef<P, R extends Result> {
  state: VertexState<P, R>;
  index: number;
}

/** A resolved output. `result` stays owned by the state (borrowers clone to keep it). */
export interface ResolvedEdge<R> {
  result: R;
  /** The keys this output is known by; dependants build their keys from these. */
  keys: readonly EdgeKey[];
  cached: boolean;
}

/** What every state of one solver shares. */
export interface StateEnv<P, R extends Result> {
  resolveOp: OpResolver<P, R>;
  results: CacheResultStorage<R>;
  limiter: Limiter;
}

export interface VertexStateInit<P, R extends Result> {
  id: string;
  vertex: Vertex<P>;
  inputs: InputRef<P, R>[];
  /** Skip lookups (vertex option or the job's noCache); results are still saved. */
  ignoreCache: boolean;
  env: StateEnv<P, R>;
}

/** One active vertex, shared by all jobs that hold it. Lifecycle: created, resolved, `abort`ed when the
 * last job lets go, then `settle` and `releaseHeld` free what it holds. */
export class VertexState<P, R extends Result> {
  readonly id: string;
  readonly vertex: Vertex<P>;
  readonly inputs: readonly InputRef<P, R>[];
  readonly ignoreCache: boolean;
  /** The jobs holding this state; progress goes to all of them. */
  readonly jobs = new Set<ProgressListener>();
  readonly progress: VertexProgress;
  readonly #env: StateEnv<P, R>;
  readonly #ctrl = new AbortController();
  readonly #pending = new Set<Promise<unknown>>();
  #held: R[] = [];
  #dropped = false;
  #event: VertexEvent;
  #op?: Op<R>;
  #opFailure?: Error;
  // Errors this state already reported and wrapped: passed on as they are, never wrapped twice.
  readonly #reported = new WeakSet<Error>();
  #cacheMap?: Promise<CacheMap<R>>;
  #fastCombos?: Promise<DepKey[][]>;
  readonly #contentDigests = new Map<number, Promise<string>>();
  readonly #edges = new Map<number, Promise<ResolvedEdge<R>>>();
  #exec?: Promise<R[]>;
  // What cache export reads after a solve: the input keys behind each key, and the settled outputs.
  readonly #keyDeps = new Map<string, DepKey[]>();
  readonly #settled = new Map<number, ResolvedEdge<R>>();

  constructor(init: VertexStateInit<P, R>) {
    this.id = init.id;
    this.vertex = init.vertex;
    this.inputs = init.inputs;
    this.ignoreCache = init.ignoreCache;
    this.#env = init.env;
    this.#event = this.announcement();
    this.progress = createVertexProgress(this.id, (e) => {
      for (const job of this.jobs) job.progressEvent(e);
    });
  }

  /** Aborted when no job needs the state any more: the signal ops get. */
  get signal(): AbortSignal {
    return this.#ctrl.signal;
  }

  /** The vertex as a job first learns of it: digest, inputs, name; nothing started. */
  announcement(): VertexEvent {
    const e: VertexEvent = {
      type: "vertex", digest: this.id, inputs: this.inputs.map((i) => i.state.id), name: this.vertex.name,
    };
    if (this.vertex.options.progressGroup) e.progressGroup = { ...this.vertex.options.progressGroup };
    return e;
  }

  /** The latest event if the vertex has started, for a job that joins late. */
  current(): VertexEvent | undefined {
    return this.#event.started ? { ...this.#event } : undefined;
  }

  /**
   * Definition-based keys of output `index`, found without running anything (only cache maps). Empty for
   * vertices whose identity is not their definition: alwaysRun, ignoreCache and random digests.
   */
  async fastKeys(index: number): Promise<EdgeKey[]> {
    if (this.ignoreCache || this.#getOp().alwaysRun) return [];
    const cm = await this.#getCacheMap();
    if (isRandomDigest(cm.digest)) return [];
    const combos = await this.#getFastCombos(cm);
    return combos.filter(isMatchable).map((c) => ({ key: this.#keyOf(cm, index, c), matchable: true }));
  }

  /** Resolves output `index` from cache or by executing; memoized. Rejects with VertexError or Canceled. */
  resolve(index: number): Promise<ResolvedEdge<R>> {
    let p = this.#edges.get(index);
    if (!p) {
      p = memo(this.#resolve(index).then((edge) => {
        this.#settled.set(index, edge);
        return edge;
      }));
      this.#edges.set(index, p);
    }
    return p;
  }

  /** The outputs resolved so far with the keys behind them (for cache export); results are borrowed. */
  solvedOutputs(): SolvedOutput<R>[] {
    return [...this.#settled].map(([output, edge]) => ({
      vertexDigest: this.vertex.digest,
      vertexName: this.vertex.name,
      output,
      keys: edge.keys.map((k) => ({
        key: k.key,
        deps: (this.#keyDeps.get(k.key) ?? []).map((d) => (d.selector === undefined ? { key: d.key } : { key: d.key, selector: d.selector })),
      })),
      result: edge.result,
      cached: edge.cached,
    }));
  }

  /** Stops the state's work: its ops see their signal abort; results arriving later are released. */
  abort(reason: unknown): void {
    this.#dropped = true;
    if (!this.#ctrl.signal.aborted) this.#ctrl.abort(reason);
  }

  /** Waits until no op call of this state is in flight. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Releases every result reference the state holds; returns the release errors. Call after `settle`. */
  async releaseHeld(): Promise<unknown[]> {
    const held = this.#held;
    this.#held = [];
    const outcomes = await Promise.allSettled(held.map((r) => r.release()));
    return outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
  }

  async #resolve(index: number): Promise<ResolvedEdge<R>> {
    const cm = await this.#getCacheMap();
    const op = this.#getOp();
    const usesCache = !this.ignoreCache && !op.alwaysRun && !isRandomDigest(cm.digest);
    const tried: EdgeKey[] = [];
    if (usesCache) {
      const hit = await this.#probe(cm, index, await this.#getFastCombos(cm), tried);
      if (hit) return hit;
    }
    // No definition-based hit: resolve every input at once (content digests are computed as each input
    // completes). Probing content keys before starting the other inputs would save work only on a content
    // hit, and it serialises independent branches of a cold build, which costs far more.
    const hasKeys = !op.alwaysRun && !isRandomDigest(cm.digest);
    const { inputs, combos } = await this.#fullCombos(cm, hasKeys);
    if (usesCache) {
      const hit = await this.#probe(cm, index, combos, tried);
      if (hit) return hit;
    }
    const outputs = await this.#execOnce(cm, inputs, combos, hasKeys);
    const result = outputs[index];
    if (result === undefined) {
      throw this.#fail(new GantryError("Internal",
        `Op of vertex ${this.vertex.digest} returned ${outputs.length} results but output ${index} is used.`));
    }
    const keys = combos.map((c) => ({ key: this.#keyOf(cm, index, c), matchable: usesCache && isMatchable(c) }));
    return { result, keys: uniqueEdgeKeys([...tried, ...keys]), cached: false };
  }

  /** Looks up the matchable combinations not tried yet; on a hit the state holds the loaded result. */
  async #probe(cm: CacheMap<R>, index: number, combos: DepKey[][], tried: EdgeKey[]):
    Promise<ResolvedEdge<R> | undefined> {
    const keys = combos.filter(isMatchable).map((c) => this.#keyOf(cm, index, c));
    for (const key of keys) {
      if (tried.some((t) => t.key === key)) continue;
      tried.push({ key, matchable: true });
      const started = new Date();
      const loaded = await this.#call(async () => {
        const r = await this.#env.results.load(key, this.signal);
        return r === undefined ? undefined : (await this.#adopt([r]))[0];
      });
      if (loaded !== undefined) {
        this.#setEvent({ started, cached: true });
        this.#setEvent({ started, completed: new Date(), cached: true });
        const all = keys.map((k) => ({ key: k, matchable: true }));
        return { result: loaded, keys: uniqueEdgeKeys([...tried, ...all]), cached: true };
      }
    }
    return undefined;
  }

  #getFastCombos(cm: CacheMap<R>): Promise<DepKey[][]> {
    this.#fastCombos ??= memo((async () => {
      const options = await Promise.all(this.inputs.map(async (inp, i) =>
        (await inp.state.fastKeys(inp.index)).map((k) => depKeyOf(k, cm.deps[i]))));
      return combineDepKeys(options);
    })());
    return this.#fastCombos;
  }

  /** Content digests for inputs that offer one (running those inputs); definition keys for the rest. */
  async #contentCombos(cm: CacheMap<R>): Promise<DepKey[][]> {
    const options = await Promise.all(this.inputs.map(async (inp, i) => {
      const dep = cm.deps[i];
      if (dep?.computeDigest) return (await this.#resolvedInput(cm, i, true)).options;
      return (await inp.state.fastKeys(inp.index)).map((k) => depKeyOf(k, dep));
    }));
    return combineDepKeys(options);
  }

  /** Resolves every input; all their keys (and content digests when `withKeys`) make the combinations. */
  async #fullCombos(cm: CacheMap<R>, withKeys: boolean): Promise<{ inputs: R[]; combos: DepKey[][] }> {
    const parts = await Promise.all(this.inputs.map((_, i) => this.#resolvedInput(cm, i, withKeys)));
    const combos = withKeys ? combineDepKeys(parts.map((p) => p.options)) : [];
    return { inputs: parts.map((p) => p.result), combos };
  }

  async #resolvedInput(cm: CacheMap<R>, i: number, withKeys: boolean): Promise<{ result: R; options: DepKey[] }> {
    const inp = this.inputs[i];
    const dep = cm.deps[i];
    const resolved = await inp.state.resolve(inp.index);
    if (!withKeys) return { result: resolved.result, options: [] };
    const options = resolved.keys.map((k) => depKeyOf(k, dep));
    if (dep?.computeDigest) {
      const digest = await this.#contentDigest(i, dep, resolved.result);
      options.unshift({ key: digest, selector: dep.selector, matchable: true });
    }
    return { result: resolved.result, options: uniqueDepKeys(options) };
  }

  #contentDigest(i: number, dep: CacheMapDep<R>, input: R): Promise<string> {
    let p = this.#contentDigests.get(i);
    if (!p) {
      const compute = dep.computeDigest;
      p = memo(this.#call(() => (compute ? compute(input, this.#ctx()) : Promise.resolve(""))));
      this.#contentDigests.set(i, p);
    }
    return p;
  }

  #execOnce(cm: CacheMap<R>, inputs: R[], combos: DepKey[][], save: boolean): Promise<R[]> {
    this.#exec ??= memo(this.#execute(cm, inputs, combos, save));
    return this.#exec;
  }

  async #execute(cm: CacheMap<R>, inputs: R[], combos: DepKey[][], save: boolean): Promise<R[]> {
    const op = this.#getOp();
    const signal = this.signal;
    // The op's own slot first: waiting for it must not hold one of the solver's shared slots.
    const releaseOp = op.acquire ? await this.#call(() => op.acquire!(signal)) : undefined;
    let outputs: R[];
    try {
      const releaseSlot = await this.#call(() => this.#env.limiter.acquire(signal));
      try {
        this.#setEvent({ started: new Date() });
        outputs = await this.#call(async () => this.#adopt(await op.exec(this.#ctx(), inputs)));
        this.#setEvent({ started: this.#event.started, completed: new Date() });
      } finally {
        releaseSlot();
      }
    } finally {
      releaseOp?.();
    }
    if (save && combos.length > 0) await this.#call(() => this.#save(cm, outputs, combos));
    return outputs;
  }

  async #save(cm: CacheMap<R>, outputs: R[], combos: DepKey[][]): Promise<void> {
    for (const [index, result] of outputs.entries()) {
      for (const combo of combos) {
        await this.#env.results.save(this.#keyOf(cm, index, combo), result, { vertexName: this.vertex.name });
      }
    }
  }

  /** The key of one combination, remembering which input keys made it. */
  #keyOf(cm: CacheMap<R>, index: number, combo: DepKey[]): CacheKey {
    const key = cacheKeyOf(cm.digest, index, combo);
    if (!this.#keyDeps.has(key)) this.#keyDeps.set(key, combo);
    return key;
  }

  #getCacheMap(): Promise<CacheMap<R>> {
    this.#cacheMap ??= memo(this.#call(() => this.#getOp().cacheMap(this.#ctx())));
    return this.#cacheMap;
  }

  #getOp(): Op<R> {
    if (this.#op) return this.#op;
    if (this.#opFailure) throw this.#opFailure;
    try {
      this.#op = this.#env.resolveOp(this.vertex);
      return this.#op;
    } catch (err) {
      this.#opFailure = this.#fail(err);
      throw this.#opFailure;
    }
  }

  #ctx(): OpContext {
    return { signal: this.signal, progress: this.progress };
  }

  /** Takes ownership of fresh references; after `abort` they are released at once instead. */
  async #adopt(results: R[]): Promise<R[]> {
    if (this.#dropped) {
      await Promise.allSettled(results.map((r) => r.release()));
      throw canceledError(this.signal);
    }
    this.#held.push(...results);
    return results;
  }

  /** Runs one call into the op or the storage: tracked for `settle`, errors wrapped with the vertex. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    throwIfAborted(this.signal);
    const p = (async () => fn())();
    this.#pending.add(p);
    void p.then(() => this.#pending.delete(p), () => this.#pending.delete(p));
    try {
      return await p;
    } catch (err) {
      if (err instanceof Error && this.#reported.has(err)) throw err;
      throw this.#fail(err);
    }
  }

  /** The error to throw for a failure of this vertex's own work; reports it unless it is a cancel. */
  #fail(err: unknown): Error {
    if (this.signal.aborted) return canceledError(this.signal);
    const wrapped = new VertexError(this.vertex.digest, this.vertex.name, err);
    this.#reported.add(wrapped);
    const started = this.#event.started && !this.#event.completed ? this.#event.started : new Date();
    if (started !== this.#event.started) this.#setEvent({ started });
    this.#setEvent({ started, completed: new Date(), error: isCanceled(err) ? CANCELED_VERTEX_ERROR : messageOf(err) });
    return wrapped;
  }

  #setEvent(patch: Pick<VertexEvent, "started" | "completed" | "cached" | "error">): void {
    const e = this.announcement();
    if (patch.started) e.started = patch.started;
    if (patch.completed) e.completed = patch.completed;
    if (patch.cached) e.cached = true;
    if (patch.error !== undefined) e.error = patch.error;
    this.#event = e;
    for (const job of this.jobs) job.vertexEvent({ ...e });
  }
}

function depKeyOf(k: EdgeKey, dep: { selector?: string } | undefined): DepKey {
  return dep?.selector === undefined
    ? { key: k.key, matchable: k.matchable }
    : { key: k.key, selector: dep.selector, matchable: k.matchable };
}

function uniqueEdgeKeys(keys: readonly EdgeKey[]): EdgeKey[] {
  const byKey = new Map<string, EdgeKey>();
  for (const k of keys) {
    const prev = byKey.get(k.key);
    if (!prev) byKey.set(k.key, { ...k });
    else if (k.matchable) prev.matchable = true;
  }
  return [...byKey.values()];
}

/** Keeps a stored promise from reporting an unhandled rejection; awaiters still see the error. */
function memo<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
