import type { ProgressEvent } from "../../util/progress-event.js";
import type { VertexTable } from "./vertex-table.js";

/** Renders a build's progress events. `finish` is called once when the build has ended. */
export interface ProgressPrinter {
  write(event: ProgressEvent): void;
  finish(): void;
  readonly table: VertexTable;
}
