// Answers a subrequest (`requestid` attr) instead of building: lint, outline, targets or describe. The
// answer is a result with no filesystem whose metadata holds `result.json`, `result.txt` and `version`.

import { GantryError } from "../../../util/errors.js";
import type { FrontendResult } from "../../frontend.js";
import type { ConvertOptions } from "../convert/convert-options.js";
import { SUBREQUEST_DEFINITIONS, describeResultMetadata } from "./describe.js";
import { REQUEST_DESCRIBE, REQUEST_LINT, REQUEST_OUTLINE, REQUEST_TARGETS } from "./keys.js";
import { lintDockerfile } from "./lint-request.js";
import { lintResultMetadata } from "./lint-results.js";
import { outlineResultMetadata } from "./outline.js";
import { outlineDockerfile } from "./outline-request.js";
import { listTargets, targetsResultMetadata } from "./targets.js";

/** What answering needs besides the Dockerfile. */
export interface SubrequestInputs {
  /** The converter's options (attrs, resolvers, where check warnings go). */
  convert: ConvertOptions;
  /** Loads the .dockerignore patterns (only lint reads them: the CopyIgnoredFile check). */
  dockerignore: () => Promise<string[]>;
}

/**
 * Answers subrequest `requestId` for `dockerfile`. Throws InvalidArgument naming the request when this
 * frontend does not know it; outline throws the converter's errors; lint reports them in its answer.
 */
export async function answerSubrequest(requestId: string, dockerfile: Uint8Array, inputs: SubrequestInputs): Promise<FrontendResult> {
  const convert = { ...inputs.convert, attrs: singlePlatform(inputs.convert.attrs ?? {}) };
  let metadata: Record<string, Uint8Array>;
  switch (requestId) {
    case REQUEST_DESCRIBE:
      metadata = describeResultMetadata();
      break;
    case REQUEST_TARGETS:
      metadata = targetsResultMetadata(listTargets(dockerfile));
      break;
    case REQUEST_OUTLINE:
      metadata = outlineResultMetadata(await outlineDockerfile(dockerfile, convert));
      break;
    case REQUEST_LINT: {
      const dockerignorePatterns = await inputs.dockerignore();
      metadata = lintResultMetadata(await lintDockerfile(dockerfile, { ...convert, dockerignorePatterns }));
      break;
    }
    default: {
      const known = SUBREQUEST_DEFINITIONS.map((d) => d.name).join(", ");
      throw new GantryError("InvalidArgument", `unsupported request ${requestId}: the Dockerfile frontend answers ${known}`);
    }
  }
  return { definition: new Uint8Array(), metadata };
}

// A subrequest looks at one conversion: with several platforms asked for, the first one stands for all.
function singlePlatform(attrs: Record<string, string>): Record<string, string> {
  const first = (attrs.platform ?? "").split(",").map((p) => p.trim()).find((p) => p !== "");
  if (first === undefined) return attrs;
  return { ...attrs, platform: first };
}
