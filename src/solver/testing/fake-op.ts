// The solver test bed: fake vertices whose ops produce string results after set delays, fail on demand,
// offer selectors and content digests, and count every call, so scheduling, dedupe, cache hits and
// cancellation are tested in milliseconds without snapshots or containers.
import { setTimeout as sleep } from "node:timers/promises";
import { sha256 } from "../../util/digest.js";
import { canceledError } from "../../util/errors.js";
import type { CacheMap, Edge, Op, OpContext, OpResolver, Vertex } from "../types.js";
import { FakeResult, RefTracker } from "./fake-result.js";

/** How a fake op sees one of its inputs. */
export interface FakeDep {
  selector?: string;
  /** Offer a content digest of the input: of its value (true) or of what the function picks from it. */
  content?: true | ((value: string) => string);
}

/** A fake vertex and its op. Everything but `name` is optional. */
export interface FakeSpec {
  name: string;
  /** The result value; a function is called per exec and is not part of the digest (a changing source). */
  value?: string | (() => string);
  /** Number of outputs (default 1); output i > 0 gets the value suffixed `#i`. */
  outputs?: number;
  /** Milliseconds exec takes (honours the abort signal). */
  delay?: number;
  cacheMapDelay?: number;
  /** Exec waits out `delay` even when aborted (an op that is slow to notice cancellation). */
  ignoreAbort?: boolean;
  /** Exec rejects with this message (after `delay`). */
  fail?: string;
  /** The cache map digest (default `fake:<name>`): change it to change the definition key. */
  cacheKey?: string;
  deps?: FakeDep[];
  alwaysRun?: boolean;
  /** Give the op an `acquire` method (counted). */
  acquire?: boolean;
  ignoreCache?: boolean;
}

/** Calls seen by the ops of one vertex name. */
export interface FakeCounters {
  cacheMap: number;
  exec: number;
  acquire: number;
  computeDigest: number;
  /** Execs whose signal aborted while they waited. */
  aborted: number;
}

/** Builds fake graphs and counts what the solver asks of their ops. */
export class FakeBed {
  readonly refs = new RefTracker();
  /** Execs running now, and the most ever running at once. */
  running = 0;
  maxRunning = 0;
  readonly #counters = new Map<string, FakeCounters>();

  /** The resolver to hand to `createSolver`. */
  readonly resolveOp: OpResolver<FakeSpec, FakeResult> = (v) => new FakeOp(v.payload, this);

  counters(name: string): FakeCounters {
    let c = this.#counters.get(name);
    if (!c) {
      c = { cacheMap: 0, exec: 0, acquire: 0, computeDigest: 0, aborted: 0 };
      this.#counters.set(name, c);
    }
    return c;
  }

  /** A vertex whose digest covers the spec (except function values) and its inputs' digests. */
  vertex(spec: FakeSpec, inputs: readonly Edge<FakeSpec>[] = []): Vertex<FakeSpec> {
    // ignoreCache is request metadata, not part of the op, so it does not change the digest (as in LLB).
    const { value, ignoreCache, ...rest } = spec;
    const digest = sha256(JSON.stringify({
      ...rest, value: typeof value === "string" ? value : undefined,
      deps: spec.deps?.map((d) => ({ selector: d.selector, content: d.content !== undefined })),
      inputs: inputs.map((e) => [e.vertex.digest, e.index]),
    }));
    return { digest, name: spec.name, inputs, payload: spec, options: { ignoreCache } };
  }

  /** Output `index` of a new vertex. */
  edge(spec: FakeSpec, inputs: readonly Edge<FakeSpec>[] = [], index = 0): Edge<FakeSpec> {
    return { vertex: this.vertex(spec, inputs), index };
  }
}

/** The op behind a fake vertex. */
export class FakeOp implements Op<FakeResult> {
  readonly alwaysRun?: boolean;
  readonly acquire?: (signal: AbortSignal) => Promise<() => void>;
  readonly #spec: FakeSpec;
  readonly #bed: FakeBed;
  readonly #counters: FakeCounters;

  constructor(spec: FakeSpec, bed: FakeBed) {
    this.#spec = spec;
    this.#bed = bed;
    this.#counters = bed.counters(spec.name);
    this.alwaysRun = spec.alwaysRun;
    if (spec.acquire) {
      this.acquire = async () => {
        this.#counters.acquire++;
        return () => undefined;
      };
    }
  }

  async cacheMap(ctx: OpContext): Promise<CacheMap<FakeResult>> {
    this.#counters.cacheMap++;
    if (this.#spec.cacheMapDelay) await this.#wait(this.#spec.cacheMapDelay, ctx.signal);
    return {
      digest: this.#spec.cacheKey ?? `fake:${this.#spec.name}`,
      deps: (this.#spec.deps ?? []).map((d) => ({
        selector: d.selector,
        computeDigest: d.content === undefined ? undefined : async (input: FakeResult) => {
          this.#counters.computeDigest++;
          const pick = d.content === true ? input.value : (d.content as (v: string) => string)(input.value);
          return sha256(pick);
        },
      })),
    };
  }

  async exec(ctx: OpContext, inputs: readonly FakeResult[]): Promise<FakeResult[]> {
    this.#counters.exec++;
    const bed = this.#bed;
    bed.running++;
    bed.maxRunning = Math.max(bed.maxRunning, bed.running);
    try {
      ctx.progress.log(1, new TextEncoder().encode(`running ${this.#spec.name}\n`));
      if (this.#spec.delay && this.#spec.ignoreAbort) await sleep(this.#spec.delay);
      else if (this.#spec.delay) await this.#wait(this.#spec.delay, ctx.signal);
      if (this.#spec.fail !== undefined) throw new Error(this.#spec.fail);
      const base = this.#value(inputs);
      return Array.from({ length: this.#spec.outputs ?? 1 }, (_, i) => bed.refs.mint(i === 0 ? base : `${base}#${i}`));
    } finally {
      bed.running--;
    }
  }

  #value(inputs: readonly FakeResult[]): string {
    const v = this.#spec.value;
    if (typeof v === "function") return v();
    if (v !== undefined) return v;
    return inputs.length === 0 ? this.#spec.name : `${this.#spec.name}(${inputs.map((i) => i.value).join(",")})`;
  }

  async #wait(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await sleep(ms, undefined, { signal });
    } catch (err) {
      // Only the abort is expected here; count it so tests can see the signal reached the op.
      if (!signal.aborted) throw err;
      this.#counters.aborted++;
      throw canceledError(signal);
    }
  }
}
