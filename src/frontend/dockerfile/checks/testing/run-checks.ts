// Test helper: converts a Dockerfile with the corpus' fake images and collects the build check warnings.

import { dockerfileToLLB } from "../../convert/dockerfile-to-llb.js";
import { createFakeResolver } from "../../convert/testing/cf-images.js";
import { formatCheckShort, type CheckWarning } from "../linter.js";

/** The outcome of one checked conversion. */
export interface CheckRun {
  warnings: CheckWarning[];
  /** `Rule: message (line N)` of each warning, in the order reported. */
  shorts: string[];
  /** The conversion's error, if it failed. */
  error?: Error;
}

/** Converts `dockerfile` for linux/amd64 (build and target) and returns the warnings and any error. */
export async function runChecks(dockerfile: string, opts: { attrs?: Record<string, string>; dockerignore?: string[] } = {}): Promise<CheckRun> {
  const warnings: CheckWarning[] = [];
  const amd64 = { os: "linux", architecture: "amd64" };
  let error: Error | undefined;
  try {
    await dockerfileToLLB(dockerfile, {
      attrs: opts.attrs ?? {}, resolveImageConfig: createFakeResolver(), platform: amd64, buildPlatform: amd64,
      dockerignorePatterns: opts.dockerignore ?? [], onCheckWarning: (w) => warnings.push(w),
    });
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err));
  }
  const shorts = warnings.map((w) => formatCheckShort(w.rule, w.message, w.location[0]?.start.line ?? 0));
  return { warnings, shorts, ...(error ? { error } : {}) };
}
