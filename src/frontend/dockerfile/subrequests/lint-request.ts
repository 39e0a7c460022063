// Answers `frontend.lint`: runs every build check on the Dockerfile by converting it (all stages unless a
// target is given) without building anything; a conversion error becomes the answer's build error.

import { isCanceled, LocationError, messageOf } from "../../../util/errors.js";
import type { ConvertOptions } from "../convert/convert-options.js";
import { dispatchDockerfile } from "../convert/dockerfile-to-llb.js";
import { addLintWarning, createLintResults, setLintBuildError, type LintResults } from "./lint-results.js";

/**
 * Lints `dockerfile`. Never throws for a Dockerfile problem (it is reported in `buildError`); throws only
 * Canceled when `opts.signal` aborts.
 */
export async function lintDockerfile(dockerfile: Uint8Array, opts: ConvertOptions): Promise<LintResults> {
  const results = createLintResults(opts.filename ?? "Dockerfile", dockerfile);
  try {
    await dispatchDockerfile(dockerfile, {
      ...opts,
      // Without a target every stage is checked, not only those the last stage needs.
      allStages: (opts.attrs?.target ?? "") === "",
      onCheckWarning: (w) => addLintWarning(results, w),
    });
  } catch (err) {
    if (isCanceled(err)) throw err;
    if (err instanceof LocationError) setLintBuildError(results, messageOf(err.cause), err.ranges);
    else setLintBuildError(results, messageOf(err), []);
  }
  return results;
}
