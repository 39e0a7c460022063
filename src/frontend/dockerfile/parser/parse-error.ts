// The error every parse failure is reported with, carrying the Dockerfile lines at fault.

import { GantryError } from "../../../util/errors.js";

/** A Dockerfile that cannot be parsed. Code InvalidArgument; `line` is the 1-based first line at fault. */
export class DockerfileParseError extends GantryError {
  readonly line: number;
  readonly endLine: number;

  constructor(message: string, lines: { start: number; end?: number }, options: { cause?: unknown } = {}) {
    super("InvalidArgument", message, options);
    this.name = "DockerfileParseError";
    this.line = lines.start;
    this.endLine = Math.max(lines.end ?? lines.start, lines.start);
  }
}
