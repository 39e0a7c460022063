/**
 * Runs one piece of work per key at a time: callers asking for a key already in flight share its promise.
 * A rejected or settled entry is forgotten, so a later call starts afresh (no cached failures).
 */
export class FlightGroup<K, V> {
  readonly #inflight = new Map<K, Promise<V>>();

  do(key: K, work: () => Promise<V>): Promise<V> {
    const existing = this.#inflight.get(key);
    if (existing) return existing;
    const p = work().finally(() => {
      if (this.#inflight.get(key) === p) this.#inflight.delete(key);
    });
    this.#inflight.set(key, p);
    return p;
  }

  has(key: K): boolean {
    return this.#inflight.has(key);
  }
}
