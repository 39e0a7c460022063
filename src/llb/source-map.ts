// Collects the source locations of marshalled vertices into Definition.Source, numbering each distinct
// source file once (upstream's sourceMapCollector).
import { Buffer } from "node:buffer";
import { create } from "@bufbuild/protobuf";
import {
  LocationSchema, LocationsSchema, PositionSchema, RangeSchema, SourceInfoSchema, SourceSchema, type Source,
} from "../gen/pb/ops_pb.js";
import type { Digest } from "../util/digest.js";
import type { SourceLocation, SourceMap } from "./vertex.js";

/** Gathers locations per vertex digest; every added digest gets an entry, even with no locations. */
export class SourceMapCollector {
  readonly #maps: SourceMap[] = [];
  readonly #index = new Map<SourceMap, number>();
  readonly #locations = new Map<Digest, SourceLocation[]>();

  add(digest: Digest, locations: readonly SourceLocation[]): void {
    for (const l of locations) {
      if (this.#index.has(l.sourceMap)) continue;
      let i = this.#maps.findIndex((m) => sameSourceMap(m, l.sourceMap));
      if (i < 0) i = this.#maps.push(l.sourceMap) - 1;
      this.#index.set(l.sourceMap, i);
    }
    this.#locations.set(digest, [...(this.#locations.get(digest) ?? []), ...locations]);
  }

  toSource(): Source {
    const source = create(SourceSchema, {
      infos: this.#maps.map((m) => create(SourceInfoSchema, {
        filename: m.filename, language: m.language ?? "", data: m.data,
        ...(m.definition ? { definition: m.definition } : {}),
      })),
    });
    for (const [digest, locs] of this.#locations) {
      source.locations[digest] = create(LocationsSchema, {
        locations: locs.map((l) => create(LocationSchema, {
          sourceIndex: this.#index.get(l.sourceMap) ?? 0,
          ranges: l.ranges.map((r) => create(RangeSchema, {
            start: create(PositionSchema, r.start),
            end: create(PositionSchema, r.end),
          })),
        })),
      });
    }
    return source;
  }
}

function sameSourceMap(a: SourceMap, b: SourceMap): boolean {
  return a.filename === b.filename && (a.language ?? "") === (b.language ?? "") &&
    Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0;
}
