// The handle objects the ref manager gives out: counted immutable handles and one-shot mutable refs.
import { GantryError } from "../util/errors.js";
import type { Mount, Snapshotter } from "../snapshot/snapshotter.js";
import type { RecordType } from "./metadata-db.js";

/**
 * A counted handle on a committed snapshot. `id` is the snapshot's name. It has the shape of the solver's
 * `Result` (solver/types.ts), which cache/ may not import: it satisfies it structurally (see the test).
 */
export interface ImmutableRef {
  readonly id: string;
  /** A new, independently released handle on the same snapshot. */
  clone(): ImmutableRef;
  /** Drops this handle (a second call is a no-op); may remove the snapshot and ones it kept alive. */
  release(): Promise<void>;
}

/** A writable snapshot being built. Ends with exactly one of `commit` or `release`. */
export interface MutableRef {
  /** The active snapshot key. */
  readonly id: string;
  /** Mounts to write through (FailedPrecondition after commit or release). */
  mounts(): Promise<Mount[]>;
  /** Turns the content into an immutable ref; the mutable ref is used up (unmount it first). */
  commit(opts?: RefOptions): Promise<ImmutableRef>;
  /** Discards the content. */
  release(): Promise<void>;
}

export interface RefOptions {
  labels?: Record<string, string>;
  /** What `du` shows for the record; default none (a saved result names its vertex). */
  description?: string;
  /** Default `regular`. */
  recordType?: RecordType;
  signal?: AbortSignal;
}

/** What a handle needs of its manager: one reference more or fewer on record `id`. */
export interface HandleOwner {
  addHandle(id: string): void;
  releaseHandle(id: string): Promise<void>;
  isLive(id: string): boolean;
}

/** One counted handle; each clone is a new handle with its own once-only release. */
export class Handle implements ImmutableRef {
  readonly id: string;
  readonly #owner: HandleOwner;
  #released = false;

  /** Wraps a reference the caller already counted. */
  constructor(id: string, owner: HandleOwner) {
    this.id = id;
    this.#owner = owner;
  }

  clone(): ImmutableRef {
    if (this.#released) throw new GantryError("FailedPrecondition", `Cannot clone ref ${this.id}: this handle was released.`);
    if (!this.#owner.isLive(this.id)) throw new GantryError("FailedPrecondition", `Cannot clone ref ${this.id}: it was already removed.`);
    this.#owner.addHandle(this.id);
    return new Handle(this.id, this.#owner);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#owner.releaseHandle(this.id);
  }
}

export interface MutableOps {
  commit(opts?: RefOptions): Promise<ImmutableRef>;
  discard(): Promise<void>;
}

export class SnapshotMutableRef implements MutableRef {
  readonly id: string;
  readonly #sn: Snapshotter;
  readonly #ops: MutableOps;
  #done = false;

  constructor(id: string, sn: Snapshotter, ops: MutableOps) {
    this.id = id;
    this.#sn = sn;
    this.#ops = ops;
  }

  async mounts(): Promise<Mount[]> {
    this.#check("mount");
    return this.#sn.mounts(this.id);
  }

  async commit(opts?: RefOptions): Promise<ImmutableRef> {
    this.#check("commit");
    this.#done = true;
    try {
      return await this.#ops.commit(opts);
    } catch (err) {
      this.#done = false;
      throw err;
    }
  }

  async release(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#ops.discard();
  }

  #check(what: string): void {
    if (this.#done) throw new GantryError("FailedPrecondition", `Cannot ${what} mutable ref ${this.id}: it was committed or released.`);
  }
}
