// Answers `frontend.targets` (upstream's targets.List): the stages of the Dockerfile in order, with their
// doc comments, bases and platforms; the last one is the default. Only parses: no image is resolved.

import { parseDockerfile } from "../parser/parser.js";
import { parseStages } from "../instructions/parse-stages.js";
import { commentsByLine, docComment } from "./doc-comment.js";
import { goBytes } from "./marshal-indent.js";
import { toPbLocation, type PbLocation } from "./pb-location.js";
import { resultMetadata } from "./result-metadata.js";
import { formatColumns } from "./tab-writer.js";

/** The targets result format's version. */
export const TARGETS_VERSION = "1.0.0";

/** One stage; empty fields are left out as upstream's omitempty does. */
export interface Target {
  name?: string;
  default?: boolean;
  description?: string;
  /** The FROM image or stage as written (not expanded). */
  base?: string;
  /** The `--platform` value as written. */
  platform?: string;
  location?: PbLocation;
}

/** The whole answer. */
export interface TargetList {
  targets: Target[];
  /** The Dockerfile, base64. */
  sources: string[];
}

/** Lists the stages. Throws DockerfileParseError (InvalidArgument) when the Dockerfile does not parse. */
export function listTargets(dockerfile: Uint8Array): TargetList {
  const parsed = parseDockerfile(dockerfile);
  const comments = commentsByLine(parsed.ast);
  const { stages } = parseStages(parsed.ast);
  const targets = stages.map((s, i): Target => {
    const description = docComment(comments.get(s.location[0]?.start.line ?? 0) ?? [], s.name);
    return {
      ...(s.name !== "" ? { name: s.name } : {}),
      ...(i === stages.length - 1 ? { default: true } : {}),
      ...(description !== "" ? { description } : {}),
      ...(s.baseName !== "" ? { base: s.baseName } : {}),
      ...(s.platform !== "" ? { platform: s.platform } : {}),
      ...(s.location.length > 0 ? { location: toPbLocation(s.location) } : {}),
    };
  });
  return { targets, sources: [goBytes(dockerfile)] };
}

/** The answer as result metadata: `result.json`, `result.txt` and `version`. */
export function targetsResultMetadata(list: TargetList): Record<string, Uint8Array> {
  return resultMetadata(list, printTargets(list), TARGETS_VERSION);
}

/** The list as upstream's PrintTargets writes it: TARGET and DESCRIPTION columns, the default marked. */
export function printTargets(list: TargetList): string {
  const rows = list.targets.map((t) => {
    const name = t.name ?? "";
    const label = t.default ? (name === "" ? "(default)" : `${name} (default)`) : name;
    return [label, t.description ?? ""];
  });
  return formatColumns([["TARGET", "DESCRIPTION"], ...rows], 1);
}
