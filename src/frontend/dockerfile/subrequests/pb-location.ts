// pb.Location / pb.Range as Go's encoding/json writes the generated structs: zero fields are left out
// (`omitempty`), so line 0 or character 0 does not appear.

import { sourceRangeOf, type SourceRange } from "../../../util/errors.js";

/** A pb.Position in JSON. */
export interface PbPosition {
  line?: number;
  character?: number;
}

/** A pb.Range in JSON. */
export interface PbRange {
  start?: PbPosition;
  end?: PbPosition;
}

/** A pb.Location in JSON: which source (index into the answer's sources) and which ranges of it. */
export interface PbLocation {
  sourceIndex?: number;
  ranges?: PbRange[];
}

/** `ranges` of source `sourceIndex` in upstream's JSON shape. */
export function toPbLocation(ranges: readonly SourceRange[], sourceIndex = 0): PbLocation {
  const out: PbLocation = {};
  if (sourceIndex !== 0) out.sourceIndex = sourceIndex;
  if (ranges.length > 0) out.ranges = ranges.map((r) => ({ start: position(r.start), end: position(r.end) }));
  return out;
}

/** The ranges of a location back in Gantry's shape (missing fields are 0). */
export function fromPbLocation(loc: PbLocation | undefined): SourceRange[] {
  return (loc?.ranges ?? []).map(sourceRangeOf);
}

/** Orders locations by source, then first line (upstream's compLocation). */
export function compareLocations(a: PbLocation | undefined, b: PbLocation | undefined): number {
  const si = (a?.sourceIndex ?? 0) - (b?.sourceIndex ?? 0);
  if (si !== 0) return si;
  return (a?.ranges?.[0]?.start?.line ?? 0) - (b?.ranges?.[0]?.start?.line ?? 0);
}

function position(p: SourceRange["start"]): PbPosition {
  const out: PbPosition = {};
  if (p.line !== 0) out.line = p.line;
  if (p.character !== 0) out.character = p.character;
  return out;
}
