// Errors that point at Dockerfile lines.

import { GantryError, LocationError, type SourceRange } from "../../../util/errors.js";

/** A LocationError for `filename` at `location` with an InvalidArgument cause unless one is given. */
export function locationError(filename: string, location: readonly SourceRange[], message: string, cause?: unknown): LocationError {
  const inner = cause instanceof GantryError && cause.message === message ? cause : new GantryError(
    cause instanceof GantryError ? cause.code : "InvalidArgument", message, cause === undefined ? {} : { cause });
  return new LocationError(filename, [...location], inner);
}
