// One HTTP exchange with bounded retries: 429 and 5xx answers and reset connections are tried again after
// an exponential, jittered pause (or the server's Retry-After, capped). Everything else returns at once.
import { setTimeout as sleep } from "node:timers/promises";
import { canceledError } from "../util/errors.js";
import type { HttpRequest, HttpResponse, HttpTransport } from "./http-transport.js";
import { isRetryableStatus, registryErrorFromNetwork, type RegistryError } from "./registry-error.js";

export interface RetryPolicy {
  /** Extra attempts after the first; default 3. */
  maxRetries: number;
  /** The first pause; doubled each time; default 200 ms. */
  baseDelayMs: number;
  /** The longest pause, also the cap on Retry-After; default 5 s. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 200, maxDelayMs: 5000 };

export interface SendOptions {
  transport: HttpTransport;
  policy: RetryPolicy;
  /** Completes "Cannot …" in errors. */
  action: string;
  /** The registry named in transport errors. */
  host: string;
  signal?: AbortSignal;
}

/**
 * Sends `req` to `url`, retrying per `policy` (its body factory makes a fresh body per attempt). Resolves
 * with the final response (which may still be a 429 or 5xx once retries are spent: the caller turns it
 * into an error). Rejects with a RegistryError (Unavailable) on transport failure, or Canceled when
 * `signal` fires.
 */
export async function sendWithRetry(url: string, req: HttpRequest, opts: SendOptions): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= opts.policy.maxRetries;
    let res: HttpResponse;
    try {
      res = await opts.transport(url, { ...req, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw canceledError(opts.signal);
      const e: RegistryError = registryErrorFromNetwork(err, opts.action, opts.host);
      if (!e.retryable || last) throw e;
      await pause(backoff(opts.policy, attempt), opts.signal);
      continue;
    }
    if (!isRetryableStatus(res.status) || last) return res;
    const wait = retryAfter(res, opts.policy) ?? backoff(opts.policy, attempt);
    await discard(res);
    await pause(wait, opts.signal);
  }
}

/** Bodies up to this size are read to the end by `discard`, so their connection can be used again. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Frees the connection of a response we will not read: a small body is drained (the connection goes back
 * to the pool), a large or unsized one is dropped with its connection.
 */
export async function discard(res: HttpResponse): Promise<void> {
  const body = res.body;
  if (!body || body.destroyed || body.readableEnded) return;
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (declared <= DRAIN_LIMIT) body.resume();
  else body.destroy();
}

function backoff(policy: RetryPolicy, attempt: number): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return full / 2 + Math.random() * (full / 2);
}

function retryAfter(res: HttpResponse, policy: RetryPolicy): number | undefined {
  const value = res.headers.get("retry-after");
  if (!value) return undefined;
  const secs = Number(value);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.min(ms, policy.maxDelayMs)) : undefined;
}

async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    if (signal?.aborted) throw canceledError(signal);
    throw err;
  }
}
