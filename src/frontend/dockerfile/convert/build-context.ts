// The build context source. Its follow paths are known only after every COPY/ADD was dispatched, so
// instructions get an output whose vertex is filled in at the end (upstream's mutableOutput).

import type { Output, Vertex } from "../../../llb/vertex.js";
import { local, State } from "../../../llb/state.js";
import { GantryError } from "../../../util/errors.js";
import { internalName } from "./vertex-names.js";

/** An output standing for a vertex chosen later; reading it before `resolve` is an Internal error. */
export class DeferredOutput implements Output {
  #target: Output | undefined;

  get vertex(): Vertex {
    return this.#resolved().vertex;
  }

  get index(): number {
    return this.#resolved().index;
  }

  /** Points this output at the real one. */
  resolve(target: Output): void {
    this.#target = target;
  }

  #resolved(): Output {
    if (this.#target === undefined) throw new GantryError("Internal", "The build context was used before it was defined.");
    return this.#target;
  }
}

/** The context local source: exclude patterns from .dockerignore, follow paths from COPY/ADD. */
export function contextSource(name: string, excludes: readonly string[], ctxPaths: ReadonlySet<string>): State {
  const followPaths = normalizeContextPaths(ctxPaths);
  return local(name, {
    sharedKeyHint: name,
    customName: internalName("load build context"),
    ...(excludes.length > 0 ? { exclude: [...excludes] } : {}),
    ...(followPaths ? { followPaths } : {}),
  });
}

/** Sorted relative paths; undefined when the whole context is used ("/" among them). */
export function normalizeContextPaths(paths: ReadonlySet<string>): string[] | undefined {
  if (paths.has("/")) return undefined;
  return [...paths].map((p) => p.replace(/^\/+/, "") || ".").sort();
}

/** A state over a deferred output, with default values. */
export function deferredState(out: DeferredOutput): State {
  return new State(out);
}
