// What a dispatched stage asks of its caller (upstream's outlineCapture): the build args it reads, the
// secrets and SSH sockets it mounts and its cache mounts. The `frontend.outline` subrequest reads it.

import type { SourceRange } from "../../../util/errors.js";

/** An ARG as a stage declared it, after its value was settled. */
export interface OutlineStageArg {
  key: string;
  /** The build arg, else the expanded default, else the global ARG's value; undefined when unset. */
  value?: string;
  location: SourceRange[];
  /** True when the value came from the global ARG of that name (upstream then lists the global one). */
  inherited: boolean;
}

/** A secret or SSH mount: the first one of each id in the stage is kept. */
export interface OutlineMount {
  required: boolean;
  location: SourceRange[];
}

/** The outline facts of one stage, filled while it is dispatched. */
export interface StageOutline {
  /** Global ARGs its FROM line's base name and platform read. */
  fromArgs: Set<string>;
  /** Its ARG instructions, in order. */
  args: OutlineStageArg[];
  secrets: Map<string, OutlineMount>;
  ssh: Map<string, OutlineMount>;
  /** Cache mount ids (before the BUILDKIT_CACHE_MOUNT_NS namespace), first location of each. */
  cache: Map<string, SourceRange[]>;
}

/** An empty record. */
export function newStageOutline(): StageOutline {
  return { fromArgs: new Set(), args: [], secrets: new Map(), ssh: new Map(), cache: new Map() };
}
