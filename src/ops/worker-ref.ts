// The solver's Result for LLB ops: a counted handle on a snapshot, or scratch (the empty filesystem).
import type { ImmutableRef } from "../cache/ref-manager.js";
import type { Result } from "../solver/types.js";

export class WorkerRef implements Result {
  readonly #ref: ImmutableRef | null;

  /** Takes ownership of `ref` (null: scratch). */
  constructor(ref: ImmutableRef | null) {
    this.#ref = ref;
  }

  static scratch(): WorkerRef {
    return new WorkerRef(null);
  }

  get id(): string {
    return this.#ref?.id ?? "scratch";
  }

  /** The underlying ref (still owned by this handle), null for scratch. */
  get ref(): ImmutableRef | null {
    return this.#ref;
  }

  clone(): WorkerRef {
    return new WorkerRef(this.#ref?.clone() ?? null);
  }

  async release(): Promise<void> {
    await this.#ref?.release();
  }
}
