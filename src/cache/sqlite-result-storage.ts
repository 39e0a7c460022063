// The solver's CacheResultStorage port (solver/types.ts) over metadata.db: a cache key maps to a ref
// record, which the row keeps until prune. cache/ may not import solver/, so this class matches the port
// structurally and the controller states the type where it wires them together.
import { throwIfAborted } from "../util/errors.js";
import type { ImmutableRef } from "./ref-handles.js";
import type { ResultRefs } from "./ref-manager.js";

/** What the storage needs of the solver's result type: its ref, and a way to wrap a loaded one. */
export interface ResultCodec<R> {
  /** The ref a result holds (null: scratch). */
  refOf(result: R): ImmutableRef | null;
  /** Wraps a new handle (ownership passes to the result). */
  wrap(ref: ImmutableRef | null): R;
}

/**
 * `load` returns a new reference the caller owns; `save` records the result's ref under the key and
 * takes no handle: the row keeps the record (and its snapshot) alive across builds and restarts.
 */
export class SqliteResultStorage<R> {
  readonly #results: ResultRefs;
  readonly #codec: ResultCodec<R>;

  constructor(results: ResultRefs, codec: ResultCodec<R>) {
    this.#results = results;
    this.#codec = codec;
  }

  async load(key: string, signal?: AbortSignal): Promise<R | undefined> {
    throwIfAborted(signal);
    const ref = this.#results.loadResult(key);
    return ref === undefined ? undefined : this.#codec.wrap(ref);
  }

  /** The vertex name becomes the record's `du` description unless it already has one. */
  async save(key: string, result: R, info: { vertexName: string }): Promise<void> {
    await this.#results.saveResult(key, this.#codec.refOf(result), { description: info.vertexName });
  }
}
