// HTTP/1.1 for registry traffic on node:http and node:https with keep-alive agents. Node's global fetch
// would do the same job, but its first call compiles undici: tens of milliseconds of CPU on every CLI build
// that resolves a base image, while these builtins are already loaded. This does what the registry code
// needs of fetch: redirects (Authorization dropped across origins), streamed bodies both ways, an
// AbortSignal that also stops a body being read, and one quiet retry when a pooled connection turns out
// to be closed. It never touches the fetch globals (`Response`, `Headers`…): reading them loads undici.
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable, pipeline } from "node:stream";
import { canceledError, GantryError } from "../util/errors.js";

/** A request body: bytes, or a stream read once (a fresh one is made for every attempt). */
export type HttpBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

/** One request for an `HttpTransport`. */
export interface HttpRequest {
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  /** Makes the body; called once per attempt (a retry on a stale connection, a 307/308 redirect). */
  body?: () => HttpBody;
  /** Aborts the exchange and, after the answer came, its body (readers then fail with Canceled). */
  signal?: AbortSignal;
}

/** Response header lookup, case-insensitive; repeated headers are joined with ", ". */
export interface HttpHeaders {
  get(name: string): string | null;
}

/** The final answer (after redirects), its body unread. */
export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  /** True for 2xx. */
  readonly ok: boolean;
  /** The URL that answered (the last redirect target). */
  readonly url: string;
  readonly redirected: boolean;
  readonly headers: HttpHeaders;
  /**
   * The body as a byte stream; null when there is none (HEAD, 204, 304, Content-Length 0). Read it,
   * or free the connection with `discard` (http-retry.ts).
   */
  readonly body: Readable | null;
  /** The whole body; a body can be read only once. */
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/**
 * Sends one request and resolves with the answer whatever its status. Rejects with the transport error
 * (Node's system errors: `code` ECONNREFUSED, ECONNRESET…; ERR_REDIRECT_* for bad redirects), or Canceled.
 */
export type HttpTransport = (url: string, req: HttpRequest) => Promise<HttpResponse>;

export interface NodeHttpTransportOptions {
  /** Redirects followed before giving up; default 10. */
  maxRedirects?: number;
  /**
   * A request whose connection stays silent this long (waiting for the answer, or between body chunks)
   * fails with ETIMEDOUT, which the client retries; default 300 s, fetch's header and body timeouts.
   */
  stallTimeoutMs?: number;
  /** Default: keep-alive agents shared by every transport of the process. */
  httpAgent?: HttpAgent;
  httpsAgent?: HttpsAgent;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NO_BODY_STATUS = new Set([204, 205, 304]);
let sharedAgents: { http: HttpAgent; https: HttpsAgent } | undefined;

/** The transport the registry client uses by default. */
export function nodeHttpTransport(opts: NodeHttpTransportOptions = {}): HttpTransport {
  // Like Node's global agents: idle sockets are closed after 5 s and unref'd, so they never hold a CLI open.
  sharedAgents ??= {
    http: new HttpAgent({ keepAlive: true, scheduling: "lifo", timeout: 5000 }),
    https: new HttpsAgent({ keepAlive: true, scheduling: "lifo", timeout: 5000 }),
  };
  const agents = { http: opts.httpAgent ?? sharedAgents.http, https: opts.httpsAgent ?? sharedAgents.https };
  const limit = opts.maxRedirects ?? 10;
  const stallMs = opts.stallTimeoutMs ?? 300_000;
  return (url, req) => follow(new URL(url), req, { ...agents, stallMs }, limit);
}

interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: () => HttpBody;
}

type Agents = { http: HttpAgent; https: HttpsAgent; stallMs: number };

async function follow(url: URL, req: HttpRequest, agents: Agents, limit: number): Promise<HttpResponse> {
  let hop: Hop = { url, method: (req.method ?? "GET").toUpperCase(), headers: { ...req.headers }, body: req.body };
  for (let redirects = 0; ; redirects++) {
    const res = await exchange(hop, agents, req.signal, true);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (!REDIRECTS.has(status) || location === undefined) return wrap(res, hop, redirects > 0);
    res.resume();
    if (redirects >= limit) throw transportError("ERR_REDIRECT_LIMIT", `${hop.url.host} redirected more than ${limit} times`);
    hop = redirected(hop, status, location);
  }
}

/** The next hop of a redirect, with what fetch would change: method, body, credentials. */
function redirected(hop: Hop, status: number, location: string): Hop {
  let next: URL;
  try {
    next = new URL(location, hop.url);
  } catch {
    next = new URL("invalid:");
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw transportError("ERR_REDIRECT_INVALID", `${hop.url.host} redirected to a location that is not an http(s) URL`);
  }
  const toGet = (status === 303 && hop.method !== "HEAD") || ((status === 301 || status === 302) && hop.method === "POST");
  const drop = (name: string): boolean =>
    (toGet && name.startsWith("content-")) || (next.origin !== hop.url.origin && (name === "authorization" || name === "cookie"));
  const headers = Object.fromEntries(Object.entries(hop.headers).filter(([name]) => !drop(name.toLowerCase())));
  return { url: next, method: toGet ? "GET" : hop.method, headers, body: toGet ? undefined : hop.body };
}

/**
 * One request/response on one connection. A pooled connection the server had already closed fails
 * with ECONNRESET before any answer; that is tried once more on a fresh connection (`retryStale`).
 */
function exchange(hop: Hop, agents: Agents, signal: AbortSignal | undefined, retryStale: boolean): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    if (signal?.aborted) return reject(canceledError(signal));
    const https = hop.url.protocol === "https:";
    const req = (https ? httpsRequest : httpRequest)(hop.url, {
      method: hop.method, headers: hop.headers, agent: https ? agents.https : agents.http,
    });
    let res: IncomingMessage | undefined;
    req.setTimeout(agents.stallMs, () => {
      const err = transportError("ETIMEDOUT", `${hop.url.host} sent nothing for ${Math.round(agents.stallMs / 1000)} s`);
      res?.destroy(err); // a body being read fails with this, not with a bare "aborted"
      req.destroy(err);
    });
    const onAbort = (): void => {
      const err = canceledError(signal as AbortSignal);
      res?.destroy(err);
      req.destroy(err);
    };
    const release = (): void => signal?.removeEventListener("abort", onAbort);
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err: Error & { code?: string }) => {
      if (res) return; // the body stream reports failures after the answer
      release();
      if (retryStale && req.reusedSocket && err.code === "ECONNRESET" && !signal?.aborted) {
        exchange(hop, agents, signal, false).then(resolve, reject);
      } else {
        reject(signal?.aborted ? canceledError(signal) : err);
      }
    });
    req.on("response", (answer: IncomingMessage) => {
      res = answer;
      answer.once("close", release);
      // Whoever reads the body sees its errors; unread, an abort must not become an uncaught 'error'.
      answer.on("error", () => undefined);
      resolve(answer);
    });
    writeBody(req, hop.body?.());
  });
}

function writeBody(req: ClientRequest, body: HttpBody | undefined): void {
  if (body === undefined) {
    req.end();
    return;
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    req.end(body);
    return;
  }
  const source = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
  // pipeline destroys the request when the source fails, which rejects the exchange with that error.
  pipeline(source, req, () => undefined);
}

function wrap(res: IncomingMessage, hop: Hop, redirected: boolean): HttpResponse {
  const status = res.statusCode ?? 0;
  const empty = hop.method === "HEAD" || NO_BODY_STATUS.has(status) || status < 200 || res.headers["content-length"] === "0";
  // An empty body still has to be read for the connection to go back to the pool.
  if (empty) res.resume();
  return new StreamResponse({
    status, statusText: res.statusMessage ?? "", url: hop.url.toString(), redirected, headers: res.headers, body: empty ? null : res,
  });
}

function transportError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** What a `StreamResponse` is made of. */
export interface StreamResponseInit {
  status: number;
  statusText?: string;
  url: string;
  redirected?: boolean;
  /** Header names in any case; arrays are repeated headers. */
  headers: Record<string, string | string[] | undefined>;
  body: Readable | null;
}

/** An `HttpResponse` over a Node stream; also what tests and other transports build answers with. */
export class StreamResponse implements HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly redirected: boolean;
  readonly headers: HttpHeaders;
  readonly body: Readable | null;
  #used = false;

  constructor(init: StreamResponseInit) {
    this.status = init.status;
    this.statusText = init.statusText ?? "";
    this.url = init.url;
    this.redirected = init.redirected ?? false;
    this.headers = headerMap(init.headers);
    this.body = init.body;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return (await this.#bytes()).toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async #bytes(): Promise<Buffer> {
    if (this.#used) throw new GantryError("Internal", `The body of the response from ${this.url} was already read.`);
    this.#used = true;
    if (!this.body) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    for await (const chunk of this.body) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    return Buffer.concat(parts);
  }
}

function headerMap(raw: Record<string, string | string[] | undefined>): HttpHeaders {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(", ") : value;
    const prior = map.get(key);
    map.set(key, prior === undefined ? joined : `${prior}, ${joined}`);
  }
  return { get: (name: string): string | null => map.get(name.toLowerCase()) ?? null };
}
