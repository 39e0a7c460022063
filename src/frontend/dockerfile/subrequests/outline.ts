// The `frontend.outline` answer (upstream's outline.Outline): what building the target needs from its
// caller (build args with defaults and doc comments, secrets, SSH sockets, cache mounts) as JSON and text.

import { resultMetadata } from "./result-metadata.js";
import type { PbLocation } from "./pb-location.js";
import { formatColumns } from "./tab-writer.js";

/** The outline result format's version. */
export const OUTLINE_VERSION = "1.0.0";

/** A build arg the target reads. */
export interface OutlineArg {
  name: string;
  description?: string;
  value?: string;
  location?: PbLocation;
}

/** A secret or SSH socket the target mounts. */
export interface OutlineRequirement {
  name: string;
  required?: boolean;
  location?: PbLocation;
}

/** A cache mount of the target (upstream declares the field; Gantry fills it). */
export interface OutlineCacheMount {
  ID: string;
  location?: PbLocation;
}

/** The whole answer; empty lists are left out, as upstream's omitempty does. */
export interface Outline {
  name?: string;
  description?: string;
  args?: OutlineArg[];
  secrets?: OutlineRequirement[];
  ssh?: OutlineRequirement[];
  cache?: OutlineCacheMount[];
  /** The Dockerfile, base64. */
  sources?: string[];
}

/** The answer as result metadata: `result.json`, `result.txt` and `version`. */
export function outlineResultMetadata(o: Outline): Record<string, Uint8Array> {
  return resultMetadata(o, printOutline(o), OUTLINE_VERSION);
}

/** The outline as upstream's PrintOutline writes it: a table per section, each followed by a blank line. */
export function printOutline(o: Outline): string {
  let out = "";
  if (o.name || o.description) {
    const rows = [["TARGET:", o.name || "(default)"]];
    if (o.description) rows.push(["DESCRIPTION:", o.description]);
    out += `${formatColumns(rows, 1)}\n`;
  }
  if (o.args?.length) {
    out += `${formatColumns([["BUILD ARG", "VALUE", "DESCRIPTION"], ...o.args.map((a) => [a.name, a.value ?? "", a.description ?? ""])], 3)}\n`;
  }
  if (o.secrets?.length) {
    out += `${formatColumns([["SECRET", "REQUIRED"], ...o.secrets.map((s) => [s.name, s.required ? "true" : ""])], 3)}\n`;
  }
  if (o.ssh?.length) {
    out += `${formatColumns([["SSH", "REQUIRED"], ...o.ssh.map((s) => [s.name, s.required ? "true" : ""])], 3)}\n`;
  }
  return out;
}
