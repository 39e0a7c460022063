// Answers `frontend.subrequests.describe` (upstream's subrequests.Request list): which subrequests this
// frontend answers, with their versions, options and result metadata keys.

import { REQUEST_DESCRIBE, REQUEST_LINT, REQUEST_OUTLINE, REQUEST_TARGETS, RESULT_JSON, RESULT_STATUS_CODE, RESULT_TXT } from "./keys.js";
import { LINT_VERSION } from "./lint-results.js";
import { OUTLINE_VERSION } from "./outline.js";
import { resultMetadata } from "./result-metadata.js";
import { formatColumns } from "./tab-writer.js";
import { TARGETS_VERSION } from "./targets.js";

/** A name with a description (upstream's subrequests.Named). */
export interface NamedField {
  name: string;
  description: string;
}

/** One subrequest's definition; null lists are what upstream's nil slices marshal to. */
export interface SubrequestDefinition {
  name: string;
  version: string;
  type: "rpc";
  description: string;
  opts: NamedField[] | null;
  inputs: NamedField[] | null;
  metadata: NamedField[] | null;
  refs: NamedField[] | null;
}

const DESCRIBE_VERSION = "1.0.0";

const meta = (...names: string[]): NamedField[] => names.map((name) => ({ name, description: "" }));

/**
 * The subrequests this frontend answers. Upstream's Dockerfile frontend leaves lint out of its list
 * although it answers it; Gantry lists it so clients can discover it.
 */
export const SUBREQUEST_DEFINITIONS: readonly SubrequestDefinition[] = [
  {
    name: REQUEST_OUTLINE, version: OUTLINE_VERSION, type: "rpc", description: "List all parameters current build target supports",
    opts: [{ name: "target", description: "Target build stage" }], inputs: null, metadata: meta(RESULT_JSON, RESULT_TXT), refs: null,
  },
  {
    name: REQUEST_TARGETS, version: TARGETS_VERSION, type: "rpc", description: "List all targets current build supports",
    opts: [], inputs: null, metadata: meta(RESULT_JSON, RESULT_TXT), refs: null,
  },
  {
    name: REQUEST_LINT, version: LINT_VERSION, type: "rpc", description: "Lint a Dockerfile",
    opts: [], inputs: null, metadata: meta(RESULT_JSON, RESULT_TXT, RESULT_STATUS_CODE), refs: null,
  },
  {
    name: REQUEST_DESCRIBE, version: DESCRIBE_VERSION, type: "rpc", description: "List available subrequest types",
    opts: null, inputs: null, metadata: meta(RESULT_JSON, RESULT_TXT), refs: null,
  },
];

/** The describe answer as result metadata: `result.json`, `result.txt` and `version`. */
export function describeResultMetadata(defs: readonly SubrequestDefinition[] = SUBREQUEST_DEFINITIONS): Record<string, Uint8Array> {
  return resultMetadata(defs, printDescribe(defs), DESCRIBE_VERSION);
}

/** NAME, VERSION and DESCRIPTION columns, names without the `frontend.` prefix (upstream's PrintDescribe). */
export function printDescribe(defs: readonly SubrequestDefinition[]): string {
  const rows = defs.map((d) => [d.name.replace(/^frontend\./, ""), d.version, d.description]);
  return formatColumns([["NAME", "VERSION", "DESCRIPTION"], ...rows], 1);
}
