// The progress handle ops get; the event types themselves are shared through util/progress-event.ts.
export type {
  ProgressGroup, VertexEvent, StatusEvent, LogEvent, WarningEvent, ProgressEvent, ProgressSink,
} from "../util/progress-event.js";

/** The progress handle an op gets for its own vertex. */
export interface VertexProgress {
  readonly digest: string;
  log(stream: 1 | 2, data: Uint8Array): void;
  /** Starts or updates a status line (e.g. a layer download); `statusDone` marks it completed. */
  status(id: string, current: number, total: number): void;
  statusDone(id: string, current?: number, total?: number): void;
  warn(short: string, detail?: string[]): void;
}
