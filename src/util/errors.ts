// Typed errors shared by every layer. A code follows gRPC's status codes so the daemon's edge can map
// the chain to a status without knowing where the error came from.

export type ErrorCode =
  | "InvalidArgument"
  | "NotFound"
  | "AlreadyExists"
  | "FailedPrecondition"
  | "ResourceExhausted"
  | "Canceled"
  | "Unavailable"
  | "Unimplemented"
  | "Internal";

export interface GantryErrorOptions {
  cause?: unknown;
  /** A sentence telling the user what to do about it, shown after the message. */
  hint?: string;
}

/** Base class of every error Gantry raises on purpose. `message` is a user-facing sentence. */
export class GantryError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GantryError";
    this.code = code;
    this.hint = options.hint;
  }
}

/** Adds the failing vertex (digest and display name) to an error chain. */
export class VertexError extends GantryError {
  readonly digest: string;
  readonly vertexName: string;

  constructor(digest: string, vertexName: string, cause: unknown) {
    super(codeOf(cause), `${vertexName}: ${messageOf(cause)}`, { cause });
    this.name = "VertexError";
    this.digest = digest;
    this.vertexName = vertexName;
  }
}

/** Adds a process exit status and the last lines of its output. */
export class ExecError extends GantryError {
  readonly exitCode: number;
  readonly lastLines: string[];

  constructor(args: string[], exitCode: number, lastLines: string[] = []) {
    // Upstream's wording, which users and tools grep for.
    super("Internal", `process ${JSON.stringify(args.join(" "))} did not complete successfully: exit code: ${exitCode}`);
    this.name = "ExecError";
    this.exitCode = exitCode;
    this.lastLines = lastLines;
  }
}

export interface SourceRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/** A range from a shape with optional ends (pb.Range, its JSON form), missing parts as 0. */
export function sourceRangeOf(r: { start?: { line?: number; character?: number }; end?: { line?: number; character?: number } }): SourceRange {
  return {
    start: { line: r.start?.line ?? 0, character: r.start?.character ?? 0 },
    end: { line: r.end?.line ?? 0, character: r.end?.character ?? 0 },
  };
}

/** Adds a source file location (a Dockerfile and line ranges) to an error chain. */
export class LocationError extends GantryError {
  readonly filename: string;
  readonly ranges: SourceRange[];

  constructor(filename: string, ranges: SourceRange[], cause: unknown) {
    const line = ranges[0]?.start.line;
    super(codeOf(cause), line === undefined ? `${filename}: ${messageOf(cause)}` : `${filename}:${line}: ${messageOf(cause)}`,
      { cause });
    this.name = "LocationError";
    this.filename = filename;
    this.ranges = ranges;
  }
}

/** The message of any thrown value, for errors that are not ours (Node's fs errors, strings). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The first code found down the cause chain; `Internal` for foreign errors. */
export function codeOf(err: unknown): ErrorCode {
  for (let e: unknown = err; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    if (e instanceof GantryError) return e.code;
    if (isAbortError(e)) return "Canceled";
    if (!(e instanceof Error)) break;
  }
  return "Internal";
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || (err as NodeJS.ErrnoException).code === "ABORT_ERR");
}

function hasCode(code: ErrorCode) {
  return (err: unknown): boolean => {
    for (let e: unknown = err; e instanceof Error; e = e.cause) {
      if (e instanceof GantryError && e.code === code) return true;
      if (code === "Canceled" && isAbortError(e)) return true;
    }
    return false;
  };
}

export const isNotFound = hasCode("NotFound");
export const isAlreadyExists = hasCode("AlreadyExists");
export const isCanceled = hasCode("Canceled");
export const isInvalidArgument = hasCode("InvalidArgument");
export const isFailedPrecondition = hasCode("FailedPrecondition");

/** The Node errno code (`ENOENT`, `EEXIST`…) of a system error, if it is one. */
export function errnoOf(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

/** Finds the first error of a class down the cause chain. */
export function findCause<T extends Error>(err: unknown, cls: abstract new (...a: never[]) => T): T | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof cls) return e;
  return undefined;
}

/** The error to throw when a signal aborts: keeps the reason, always coded `Canceled`. */
export function canceledError(signal?: AbortSignal): GantryError {
  const reason = signal?.reason;
  if (reason instanceof GantryError && reason.code === "Canceled") return reason;
  return new GantryError("Canceled", "The build was canceled.", { cause: reason });
}

/** Throws `Canceled` when the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw canceledError(signal);
}
