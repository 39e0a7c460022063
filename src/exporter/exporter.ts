// The Exporter contract: turn a build result into an artifact (an image layout tarball, a directory, a
// tar of the rootfs). `resolve(attrs)` validates the user's `--output` attrs up front, so a typo fails
// before the build runs; `export(source)` does the work. Work that may overlap the cache export (a push)
// goes into `finalize`.
import type { Platform } from "../oci/types.js";
import type { LayerDir } from "../snapshot/snapshotter.js";
import type { VertexProgress } from "../solver/progress.js";

/** One layer of a result, bottom to top, in overlay form; description/createdAt feed the image history. */
export interface ExportLayer extends LayerDir {
  /** What made the layer (`RUN apk add …`); used for history entries the frontend did not supply. */
  description?: string;
  /** When the layer was made; used for history `created` the frontend did not supply. */
  createdAt?: Date;
}

/** What an exporter gets from the solver: one platform's result. */
export interface ExportSource {
  /** Layer directories bottom → top; empty for scratch. */
  layers: ExportLayer[];
  /**
   * Runs `fn` with the merged rootfs mounted read-only at `dir` and unmounts after it settles.
   * Filesystem exporters (local, tar) use it; image exporters use `layers`.
   */
  withRootfs<T>(fn: (dir: string) => Promise<T>): Promise<T>;
  /** The frontend's `containerimage.config` JSON; absent means a default config. */
  imageConfig?: Uint8Array;
  platform: Platform;
}

export interface ExportOptions {
  signal?: AbortSignal;
  /** The export vertex's progress: status lines such as `exporting layers`, `sending tarball`. */
  progress?: VertexProgress;
}

export interface ExportResult {
  /** ExporterResponse entries (`containerimage.digest`, `image.name`, …); see `keys.ts`. */
  response: Record<string, string>;
  /** Work that may run after the solve (a push); absent when `export` did everything. */
  finalize?: (opts: { signal?: AbortSignal }) => Promise<void>;
}

/** A resolved exporter: attrs checked, ready to export one result. Stateless between exports. */
export interface ExporterInstance {
  /** The exporter type (`oci`, `docker`, `local`, `tar`). */
  readonly type: string;
  /** The vertex name shown in progress (`exporting to oci image format`). */
  readonly name: string;
  /**
   * Exports `source`. Errors: InvalidArgument for attrs that only the source can disprove, Canceled on
   * abort, FailedPrecondition/Internal for I/O failures, each naming the destination.
   */
  export(source: ExportSource, opts?: ExportOptions): Promise<ExportResult>;
  /**
   * Exports a multi-platform result, one source per platform in the frontend's order (at least two).
   * Absent when the exporter cannot (the docker tarball holds one image per name).
   */
  exportPlatforms?(sources: readonly ExportSource[], opts?: ExportOptions): Promise<ExportResult>;
}

export interface Exporter {
  /** Validates `attrs` (the `--output` key/values minus `type`); InvalidArgument naming the bad attr. */
  resolve(attrs: Record<string, string>): Promise<ExporterInstance>;
}
