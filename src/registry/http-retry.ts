// One HTTP exchange with bounded retries: 429 and 5xx answers and reset connections are tried again after
// an exponential, jittered pause (or the server's Retry-After, capped). Everything else returns at once.
import { setTimeout as sleep } from "node:timers/promises";
import { canceledError } from "../util/errors.js";
import { isRetryableStatus, registryErrorFromNetwork, type RegistryError } from "./registry-error.js";

export type FetchFn = typeof fetch;

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
  fetch: FetchFn;
  policy: RetryPolicy;
  /** Completes "Cannot …" in errors. */
  action: string;
  /** The registry named in transport errors. */
  host: string;
  signal?: AbortSignal;
}

/**
 * Sends `init` to `url`, retrying per `policy`. Resolves with the final response (which may still be a
 * 429 or 5xx once retries are spent: the caller turns it into an error). Rejects with a RegistryError
 * (Unavailable) on transport failure, or Canceled when `signal` fires.
 */
export async function sendWithRetry(url: string, init: RequestInit, opts: SendOptions): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= opts.policy.maxRetries;
    let res: Response;
    try {
      res = await opts.fetch(url, { ...init, signal: opts.signal, redirect: "follow" });
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

/**
 * Frees the connection of a response we will not read. The cancellation is not awaited: undici may leave
 * it pending when the request was aborted, and nothing depends on its outcome.
 */
export async function discard(res: Response): Promise<void> {
  if (res.body && !res.body.locked) res.body.cancel().catch(() => undefined);
}

function backoff(policy: RetryPolicy, attempt: number): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return full / 2 + Math.random() * (full / 2);
}

function retryAfter(res: Response, policy: RetryPolicy): number | undefined {
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
