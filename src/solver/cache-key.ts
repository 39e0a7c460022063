// Cache key arithmetic: the key of a vertex output is a digest over its cache map digest, the output index
// and one (key, selector) pair per input. A vertex can be known by several keys (definition-based and
// content-based), so the keys of a vertex are the cross product of its inputs' key alternatives.
import { sha256 } from "../util/digest.js";
import type { CacheKey } from "./types.js";

/**
 * One alternative identity of an input, as a dependant sees it. `matchable` is false for keys that may
 * be saved under but must never be looked up: keys derived from a vertex that was forced to re-run
 * (ignoreCache), so its dependants cannot reuse results computed from an older run of it.
 */
export interface DepKey {
  key: string;
  selector?: string;
  matchable: boolean;
}

/** A key of one output of a vertex, with whether dependants may look it up. */
export interface EdgeKey {
  key: CacheKey;
  matchable: boolean;
}

/** Cross products grow fast with diamond graphs; beyond this many alternatives the rest are dropped. */
export const MAX_KEY_COMBINATIONS = 16;

/** The key of output `output` of a vertex whose cache map digest is `digest`, given one key per input. */
export function cacheKeyOf(digest: string, output: number, deps: readonly DepKey[]): CacheKey {
  const material = {
    digest,
    output,
    deps: deps.map((d) => (d.selector === undefined ? { key: d.key } : { key: d.key, selector: d.selector })),
  };
  return sha256(JSON.stringify(material)) as string as CacheKey;
}

/**
 * All combinations picking one alternative per input, in order, at most `limit` of them. An input with no
 * alternatives yields no combination at all: the vertex then has no key on this path.
 */
export function combineDepKeys(options: readonly (readonly DepKey[])[], limit = MAX_KEY_COMBINATIONS): DepKey[][] {
  let combos: DepKey[][] = [[]];
  for (const alternatives of options) {
    const next: DepKey[][] = [];
    for (const combo of combos) {
      for (const alt of alternatives) {
        if (next.length >= limit) break;
        next.push([...combo, alt]);
      }
    }
    combos = next;
    if (combos.length === 0) break;
  }
  return combos;
}

/** Whether every part of a combination may be looked up. */
export function isMatchable(combo: readonly DepKey[]): boolean {
  return combo.every((d) => d.matchable);
}

/** Removes duplicate alternatives (same key and selector), keeping the first; matchable wins. */
export function uniqueDepKeys(keys: readonly DepKey[]): DepKey[] {
  const seen = new Map<string, DepKey>();
  for (const k of keys) {
    const id = `${k.key}\u0000${k.selector ?? ""}`;
    const prev = seen.get(id);
    if (!prev) seen.set(id, { ...k });
    else if (k.matchable) prev.matchable = true;
  }
  return [...seen.values()];
}

/** Whether a cache map digest is random: such keys never match anything persisted (upstream's `random:`). */
export function isRandomDigest(digest: string): boolean {
  return digest.startsWith("random:");
}
