// Progress events, shaped like upstream's StatusResponse pieces (Vertex, VertexStatus, VertexLog,
// VertexWarning) so that the daemon maps them one-to-one and the CLI renders them like buildctl. They live in
// util/ because the solver emits them and the client renders them, and neither may import the other.
import type { SourceRange } from "./errors.js";

export interface ProgressGroup {
  id: string;
  name: string;
  weak?: boolean;
}

export interface VertexEvent {
  type: "vertex";
  digest: string;
  inputs: string[];
  name: string;
  started?: Date;
  completed?: Date;
  cached?: boolean;
  error?: string;
  progressGroup?: ProgressGroup;
}

/** A sub-task of a vertex (a layer download, "exporting layers"); `total` 0 means unknown. */
export interface StatusEvent {
  type: "status";
  vertex: string;
  id: string;
  name?: string;
  current: number;
  total: number;
  timestamp: Date;
  started?: Date;
  completed?: Date;
}

export interface LogEvent {
  type: "log";
  vertex: string;
  /** 1 stdout, 2 stderr. */
  stream: 1 | 2;
  data: Uint8Array;
  timestamp: Date;
}

export interface WarningEvent {
  type: "warning";
  vertex: string;
  level: number;
  short: string;
  detail: string[];
  url?: string;
  /** The file the warning is about (a Dockerfile) and the lines at fault, as upstream's VertexWarning. */
  source?: { filename: string; language?: string };
  ranges?: SourceRange[];
}

export type ProgressEvent = VertexEvent | StatusEvent | LogEvent | WarningEvent;

/** Where progress goes. Must not throw; must return quickly (buffer, never block the solver). */
export type ProgressSink = (event: ProgressEvent) => void;
