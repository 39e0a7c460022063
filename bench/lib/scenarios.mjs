// The scenarios of issue 4. Each names its Dockerfile folder, how to make its context (under the bench's
// temp dir), its timed phases in order, and the target ratio Gantry/Docker-BuildKit where the issue sets one.
// A phase with `reset` starts from an empty build cache; `before(ctx, n)` edits the context first.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { generate as makeContext20k, touch } from "../scenarios/context20k/generate.mjs";
import { generate as makeBig } from "../scenarios/export256/generate.mjs";

function emptyContext(tmp) {
  const dir = join(tmp, "ctx", "empty");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** All scenarios, in the order the suite runs them. */
export const SCENARIOS = [
  {
    name: "parallel4",
    title: "four parallel 1 s stages",
    prepare: emptyContext,
    phases: [{ name: "cold", reset: true, target: 1.1 }],
  },
  {
    name: "context20k",
    title: "20,000-file 80 MiB context copied then counted",
    prepare(tmp) {
      const dir = join(tmp, "ctx", "context20k");
      makeContext20k(dir);
      return dir;
    },
    phases: [
      { name: "cold", reset: true },
      { name: "no-change", target: 1.0, copyCached: true },
      { name: "one-file-changed", target: 1.0, copyCached: false, before: (dir, n) => touch(dir, n) },
    ],
  },
  {
    name: "steps50",
    title: "fifty sequential RUN steps",
    prepare: emptyContext,
    phases: [{ name: "cold", reset: true, target: 1.2 }],
  },
  {
    name: "parallel32",
    title: "thirty-two parallel stages joined by COPY --from",
    prepare: emptyContext,
    phases: [{ name: "cold", reset: true, target: 1.1 }],
  },
  {
    name: "export256",
    title: "256 MiB layer exported as a gzip OCI tarball",
    prepare(tmp) {
      const dir = join(tmp, "ctx", "export256");
      makeBig(dir);
      return dir;
    },
    exportGzip: true,
    // Issue 6: the layer export must beat single-threaded gzip of the same layer by 1.5x.
    gzipBaseline: { file: "big.dat", minSpeedup: 1.5 },
    phases: [{ name: "cold", reset: true }],
  },
];
