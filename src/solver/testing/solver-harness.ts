// A solver wired to the fake test bed and an in-memory storage, with helpers to read its progress and
// to check at the end that no result reference leaked.
import assert from "node:assert/strict";
import { MemoryResultStorage } from "../memory-result-storage.js";
import type { ProgressEvent, VertexEvent } from "../progress.js";
import { createSolver, type SolveOptions, type Solver } from "../solver.js";
import type { Edge } from "../types.js";
import { FakeBed, type FakeSpec } from "./fake-op.js";
import type { FakeResult } from "./fake-result.js";

/** What one solve returned: its value (the reference is already released) and its progress. */
export interface SolveRun {
  value: string;
  events: ProgressEvent[];
}

export interface Harness {
  bed: FakeBed;
  storage: MemoryResultStorage<FakeResult>;
  solver: Solver<FakeSpec, FakeResult>;
  /** Solves, records progress, releases the result. */
  run(target: Edge<FakeSpec>, options?: SolveOptions<FakeSpec>): Promise<SolveRun>;
  /** Closes solver and storage, asserting every reference was released. */
  close(): Promise<void>;
}

export function createHarness(options: { parallelism?: number } = {}): Harness {
  const bed = new FakeBed();
  const storage = new MemoryResultStorage<FakeResult>();
  const solver = createSolver({ resolveOp: bed.resolveOp, results: storage, parallelism: options.parallelism ?? 8 });
  return {
    bed, storage, solver,
    async run(target, opts = {}) {
      const events: ProgressEvent[] = [];
      const result = await solver.solve(target, { ...opts, progress: (e) => events.push(e) });
      const value = result.value;
      await result.release();
      return { value, events };
    },
    async close() {
      await solver.close();
      assert.equal(bed.refs.live, storage.heldResults,
        `only the storage may hold results; live: ${bed.refs.liveIds().join(", ")}`);
      await storage.close();
      assert.equal(bed.refs.live, 0, "storage released everything");
    },
  };
}

/** The vertex events of a run. */
export function vertexEvents(events: readonly ProgressEvent[]): VertexEvent[] {
  return events.filter((e): e is VertexEvent => e.type === "vertex");
}

/** The last event of each vertex, by vertex name. */
export function finalByName(events: readonly ProgressEvent[]): Map<string, VertexEvent> {
  const out = new Map<string, VertexEvent>();
  for (const e of vertexEvents(events)) out.set(e.name, e);
  return out;
}
