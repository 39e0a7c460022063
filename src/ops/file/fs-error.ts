// Turns Node's system errors into GantryErrors whose messages read like upstream's Go `*PathError`s
// (`mkdir /a/b: no such file or directory`), with paths shown relative to the filesystem root.
import { errnoOf, GantryError, type ErrorCode } from "../../util/errors.js";

const STRERROR: Record<string, string> = {
  ENOENT: "no such file or directory",
  EEXIST: "file exists",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ENOTEMPTY: "directory not empty",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "too many levels of symbolic links",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EXDEV: "invalid cross-device link",
  EINVAL: "invalid argument",
  EBUSY: "device or resource busy",
  EMLINK: "too many links",
  ENAMETOOLONG: "file name too long",
  EIO: "input/output error",
};

const CODES: Record<string, ErrorCode> = {
  ENOENT: "NotFound",
  EEXIST: "AlreadyExists",
  ENOTDIR: "FailedPrecondition",
  EISDIR: "FailedPrecondition",
  ENOTEMPTY: "FailedPrecondition",
  ELOOP: "FailedPrecondition",
  EACCES: "FailedPrecondition",
  EPERM: "FailedPrecondition",
  EROFS: "FailedPrecondition",
  EMLINK: "FailedPrecondition",
  ENAMETOOLONG: "InvalidArgument",
  EINVAL: "InvalidArgument",
  ENOSPC: "ResourceExhausted",
  EDQUOT: "ResourceExhausted",
};

/**
 * Wraps a failed fs call: `<op> <displayPath>: <reason>`. Errors that are already GantryErrors pass
 * through unchanged, so the innermost context wins.
 */
export function fsError(op: string, displayPath: string, err: unknown): GantryError {
  if (err instanceof GantryError) return err;
  const errno = errnoOf(err) ?? "";
  const reason = STRERROR[errno] ?? (err instanceof Error ? err.message : String(err));
  return new GantryError(CODES[errno] ?? "Internal", `${op} ${displayPath}: ${reason}`, { cause: err });
}

/** True for a Node system error with this errno code. */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  const c = errnoOf(err);
  return c !== undefined && codes.includes(c);
}
