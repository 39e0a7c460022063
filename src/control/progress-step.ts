// A piece of controller work shown as its own progress vertex (exporting or importing a cache), the way
// upstream shows non-LLB steps: started, then completed with or without an error.
import { createVertexProgress } from "../solver/vertex-progress.js";
import type { VertexProgress } from "../solver/progress.js";
import { sha256 } from "../util/digest.js";
import { messageOf } from "../util/errors.js";
import type { ProgressSink } from "../util/progress-event.js";

/** Runs `fn` as vertex `name` (its digest derived from `id`); the vertex completes with fn's error, if any. */
export async function progressStep<T>(progress: ProgressSink, id: string, name: string,
  fn: (vp: VertexProgress) => Promise<T>): Promise<T> {
  const digest = sha256(id);
  const started = new Date();
  progress({ type: "vertex", digest, inputs: [], name, started });
  try {
    const out = await fn(createVertexProgress(digest, progress));
    progress({ type: "vertex", digest, inputs: [], name, started, completed: new Date() });
    return out;
  } catch (err) {
    progress({ type: "vertex", digest, inputs: [], name, started, completed: new Date(), error: messageOf(err) });
    throw err;
  }
}
