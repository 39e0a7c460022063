// Failures talking to a registry, with the HTTP status and whether trying again may help. Messages name the
// action and the image, never credentials: we never put userinfo, Authorization headers or token bodies
// into them, and registry-supplied detail is cut short.
import type { Readable } from "node:stream";
import { GantryError, type ErrorCode } from "../util/errors.js";
import type { HttpResponse } from "./http-transport.js";

export interface RegistryErrorOptions {
  /** The HTTP status, when the registry answered. */
  status?: number;
  /** True when the same request may succeed later (429, 5xx, a reset connection). */
  retryable?: boolean;
  /** The distribution error code from the body (`MANIFEST_UNKNOWN`, `DENIED`…). */
  registryCode?: string;
  cause?: unknown;
  hint?: string;
}

/**
 * A registry or transport failure. Codes: NotFound (404), FailedPrecondition (401/403: credentials are
 * missing or refused — the user must log in or fix the name; also digest mismatches), ResourceExhausted
 * (429), Unavailable (5xx, connection refused or reset, DNS), InvalidArgument (other 4xx), Internal.
 */
export class RegistryError extends GantryError {
  readonly status?: number;
  readonly retryable: boolean;
  readonly registryCode?: string;

  constructor(code: ErrorCode, message: string, opts: RegistryErrorOptions = {}) {
    super(code, message, { cause: opts.cause, hint: opts.hint });
    this.name = "RegistryError";
    this.status = opts.status;
    this.retryable = opts.retryable ?? false;
    this.registryCode = opts.registryCode;
  }
}

/** Statuses worth retrying after a pause. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

function codeForStatus(status: number): ErrorCode {
  if (status === 404) return "NotFound";
  if (status === 401 || status === 403) return "FailedPrecondition";
  if (status === 429) return "ResourceExhausted";
  if (status >= 500) return "Unavailable";
  if (status === 405) return "Unimplemented";
  if (status >= 400) return "InvalidArgument";
  return "Internal";
}

function reasonForStatus(status: number, statusText: string): string {
  switch (status) {
    case 404: return "not found";
    case 401: return "authentication required";
    case 403: return "access denied";
    case 429: return "too many requests";
    default: return `the registry answered ${status}${statusText ? ` ${statusText}` : ""}`;
  }
}

/**
 * Builds the error for a non-success response and consumes (a bounded part of) its body.
 * `action` completes "Cannot …" ("resolve image localhost:5000/x:1"); `host` names the registry in hints.
 */
export async function registryErrorFromResponse(res: HttpResponse, action: string, host?: string): Promise<RegistryError> {
  const { code, message } = await readErrorBody(res);
  const detail = code || message ? ` (${[code, message].filter(Boolean).join(": ").slice(0, 200)})` : "";
  const hint = (res.status === 401 || res.status === 403) && host
    ? `Log in with "docker login ${host}", or check that the image name is right.` : undefined;
  return new RegistryError(codeForStatus(res.status),
    `Cannot ${action}: ${reasonForStatus(res.status, res.statusText)}${detail}.`,
    { status: res.status, retryable: isRetryableStatus(res.status), registryCode: code || undefined, hint });
}

const ERROR_BODY_LIMIT = 64 * 1024;

async function readErrorBody(res: HttpResponse): Promise<{ code: string; message: string }> {
  if (!res.body) return { code: "", message: "" };
  try {
    const parsed: unknown = JSON.parse(await readPrefix(res.body, ERROR_BODY_LIMIT));
    const first = (parsed as { errors?: Array<{ code?: unknown; message?: unknown }> }).errors?.[0];
    return {
      code: typeof first?.code === "string" ? first.code : "",
      message: typeof first?.message === "string" ? first.message : "",
    };
  } catch {
    // Not a distribution error body (HTML from a proxy, empty): the status says enough.
    return { code: "", message: "" };
  }
}

/** At most `limit` bytes of `body` as text; a longer body is cut off (with its connection). */
async function readPrefix(body: Readable, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    parts.push(buf);
    size += buf.length;
    if (size >= limit) break;
  }
  return Buffer.concat(parts).subarray(0, limit).toString("utf8");
}

const RETRYABLE_NET = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CLOSED"]);

/**
 * Maps a transport failure (a Node system error, or fetch's `TypeError: fetch failed` with one as cause;
 * ERR_REDIRECT_* from http-transport.ts) to Unavailable.
 * Resets and timeouts are retryable; a refused connection or unknown host is not (the registry is not
 * there, waiting will not change that within one request).
 */
export function registryErrorFromNetwork(err: unknown, action: string, host: string): RegistryError {
  const errno = findErrno(err);
  let reason = "the connection failed";
  let hint: string | undefined;
  if (errno === "ECONNREFUSED") reason = `connection refused by ${host}`;
  else if (errno === "ENOTFOUND" || errno === "EAI_AGAIN") reason = `cannot resolve host ${host}`;
  else if (errno && RETRYABLE_NET.has(errno)) reason = `the connection to ${host} was interrupted (${errno})`;
  else if (errno?.startsWith("ERR_REDIRECT_")) reason = (err as Error).message;
  else if (errno && /CERT|SSL|TLS/.test(errno)) {
    reason = `TLS failed with ${host} (${errno})`;
    hint = `If ${host} serves plain http, list it as an insecure registry.`;
  } else if (errno) reason = `the connection to ${host} failed (${errno})`;
  return new RegistryError("Unavailable", `Cannot ${action}: ${reason}.`,
    { cause: err, retryable: errno !== undefined && RETRYABLE_NET.has(errno), hint });
}

function findErrno(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    if (e.message === "terminated" || e.message === "other side closed") return "UND_ERR_SOCKET";
  }
  return undefined;
}
