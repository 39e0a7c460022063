// An in-memory CacheResultStorage: for tests and for builds that keep no cache across runs. One result
// saved under several keys (definition and content keys) is kept once, counted by the keys that use it.
import { throwIfAborted } from "../util/errors.js";
import type { CacheKey, CacheResultStorage, Result } from "./types.js";

interface Entry<R> {
  result: R;
  keys: number;
}

/**
 * Keeps one reference per distinct result id (`Result.id`), released when no key maps to it any more or
 * on `close`. `load` hands out new references the caller owns.
 */
export class MemoryResultStorage<R extends Result> implements CacheResultStorage<R> {
  readonly #byKey = new Map<CacheKey, string>();
  readonly #entries = new Map<string, Entry<R>>();
  #closed = false;

  async load(key: CacheKey, signal?: AbortSignal): Promise<R | undefined> {
    throwIfAborted(signal);
    const id = this.#byKey.get(key);
    const entry = id === undefined ? undefined : this.#entries.get(id);
    return entry ? (entry.result.clone() as R) : undefined;
  }

  /** Records `result` under `key` (replacing what the key held); keeps its own reference. */
  async save(key: CacheKey, result: R, _info: { vertexName: string }): Promise<void> {
    if (this.#closed) return;
    const previous = this.#byKey.get(key);
    if (previous === result.id) return;
    const entry = this.#entries.get(result.id);
    if (entry) entry.keys++;
    else this.#entries.set(result.id, { result: result.clone() as R, keys: 1 });
    this.#byKey.set(key, result.id);
    if (previous !== undefined) await this.#unref(previous);
  }

  /** Forgets a key; returns whether it was there. */
  async delete(key: CacheKey): Promise<boolean> {
    const id = this.#byKey.get(key);
    if (id === undefined) return false;
    this.#byKey.delete(key);
    await this.#unref(id);
    return true;
  }

  /** The keys currently stored. */
  keys(): CacheKey[] {
    return [...this.#byKey.keys()];
  }

  /** How many distinct results the storage holds a reference to. */
  get heldResults(): number {
    return this.#entries.size;
  }

  /** Releases everything; later saves are ignored and loads miss. */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    this.#byKey.clear();
    await Promise.all(entries.map((e) => e.result.release()));
  }

  async #unref(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry || --entry.keys > 0) return;
    this.#entries.delete(id);
    await entry.result.release();
  }
}
