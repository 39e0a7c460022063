// Results for solver tests: string values with counted references, so a test can assert that every
// reference the solver or a storage took was released exactly once.
import { GantryError } from "../../util/errors.js";
import type { Result } from "../types.js";

/** Counts live references per result id across all clones. */
export class RefTracker {
  readonly #live = new Map<string, number>();
  #next = 0;

  /** A new result (one live reference) with a fresh id. */
  mint(value: string): FakeResult {
    const id = `${value}#${++this.#next}`;
    this.#add(id);
    return new FakeResult(id, value, this);
  }

  /** All live references. */
  get live(): number {
    let n = 0;
    for (const count of this.#live.values()) n += count;
    return n;
  }

  /** Live references of one result id. */
  liveOf(id: string): number {
    return this.#live.get(id) ?? 0;
  }

  /** Ids with live references, for failure messages. */
  liveIds(): string[] {
    return [...this.#live.keys()];
  }

  #add(id: string): void {
    this.#live.set(id, (this.#live.get(id) ?? 0) + 1);
  }

  /** Internal to FakeResult. */
  onClone(id: string): void {
    this.#add(id);
  }

  /** Internal to FakeResult. */
  onRelease(id: string): void {
    const n = (this.#live.get(id) ?? 0) - 1;
    if (n < 0) throw new GantryError("Internal", `Result ${id} was released more often than referenced.`);
    if (n === 0) this.#live.delete(id);
    else this.#live.set(id, n);
  }
}

/** One reference to a string value. Releasing it twice throws Internal. */
export class FakeResult implements Result {
  readonly id: string;
  readonly value: string;
  readonly #tracker: RefTracker;
  #released = false;

  constructor(id: string, value: string, tracker: RefTracker) {
    this.id = id;
    this.value = value;
    this.#tracker = tracker;
  }

  clone(): FakeResult {
    if (this.#released) throw new GantryError("Internal", `Result ${this.id} was cloned after release.`);
    this.#tracker.onClone(this.id);
    return new FakeResult(this.id, this.value, this.#tracker);
  }

  async release(): Promise<void> {
    if (this.#released) throw new GantryError("Internal", `Result ${this.id} was released twice.`);
    this.#released = true;
    this.#tracker.onRelease(this.id);
  }
}
