// The HTTP side of the OCI distribution API: picks http or https per host, adds authorization (learning
// challenges on 401), retries transient failures, and hands back streaming responses. It knows nothing of
// manifests: `resolver.ts` and `image-puller.ts` build on it, and a pusher will too.
import type { Reference } from "../oci/reference.js";
import { registryApiHost } from "../oci/reference.js";
import type { CredentialSource } from "./docker-config-auth.js";
import { DEFAULT_RETRY_POLICY, discard, sendWithRetry, type RetryPolicy } from "./http-retry.js";
import { nodeHttpTransport, type HttpBody, type HttpRequest, type HttpResponse, type HttpTransport } from "./http-transport.js";
import { registryErrorFromResponse } from "./registry-error.js";
import { TokenAuthorizer } from "./token-authorizer.js";

export interface RegistryClientOptions {
  /** Where credentials come from (e.g. `dockerConfigCredentials()`); default anonymous. */
  credentials?: CredentialSource;
  /**
   * Registries spoken to over plain http (`host` or `host:port`). `localhost`, `127.0.0.1` and `::1` always
   * are, on any port, as docker does.
   */
  insecure?: string[];
  retry?: Partial<RetryPolicy>;
  userAgent?: string;
  /** How requests are sent; default `nodeHttpTransport()` (node:http/https, keep-alive). Tests wrap it to watch. */
  transport?: HttpTransport;
}

/** One call of the distribution API for a repository. */
export interface RegistryRequest {
  ref: Pick<Reference, "registry" | "repository">;
  /** The part after `/v2/<repository>/`: `manifests/1`, `blobs/sha256:…`. */
  path: string;
  /** An absolute URL to use instead of `path` (an upload's `Location`); auth and retries as for `path`. */
  url?: string;
  method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH";
  /** Makes the request body; called once per attempt, since a streamed body cannot be sent twice. */
  body?: () => HttpBody;
  headers?: Record<string, string>;
  /** Token scope actions; default `["pull"]`. */
  actions?: string[];
  /** Completes "Cannot …" in errors, naming what was being done: "resolve image localhost:5000/x:1". */
  action: string;
  signal?: AbortSignal;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/**
 * A distribution API client shared by resolver, puller and (later) pusher. Keeps auth state (challenges,
 * tokens) per registry for its lifetime; safe for concurrent use.
 */
export class RegistryClient {
  readonly #transport: HttpTransport;
  readonly #policy: RetryPolicy;
  readonly #insecure: Set<string>;
  readonly #userAgent: string;
  readonly #auth: TokenAuthorizer;

  constructor(opts: RegistryClientOptions = {}) {
    this.#transport = opts.transport ?? nodeHttpTransport();
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.#insecure = new Set(opts.insecure ?? []);
    this.#userAgent = opts.userAgent ?? "gantry/0.1";
    this.#auth = new TokenAuthorizer({
      credentials: opts.credentials,
      send: (url, init, action) => sendWithRetry(url, this.#withAgent(init),
        { transport: this.#transport, policy: this.#policy, action, host: new URL(url).host }),
    });
  }

  /** True when `registry` is spoken to over plain http. */
  isInsecure(registry: string): boolean {
    const hostname = registry.startsWith("[") ? registry.slice(0, registry.indexOf("]") + 1) : registry.split(":")[0];
    return LOOPBACK.has(hostname) || this.#insecure.has(registry) || this.#insecure.has(hostname);
  }

  /** `http(s)://<api host>/v2/<repository>/` for a reference. */
  repositoryUrl(ref: Pick<Reference, "registry" | "repository">): string {
    const scheme = this.isInsecure(ref.registry) ? "http" : "https";
    return `${scheme}://${registryApiHost(ref.registry)}/v2/${ref.repository}/`;
  }

  /**
   * Sends a request with authorization and retries and returns the final response, whatever its status,
   * with its body unread (the caller reads or discards it). A 401 is answered once by fetching
   * credentials for the challenge and trying again. Transport failures are RegistryError (Unavailable);
   * an abort is Canceled.
   */
  async request(req: RegistryRequest): Promise<HttpResponse> {
    const scope = `repository:${req.ref.repository}:${(req.actions ?? ["pull"]).join(",")}`;
    const registry = req.ref.registry;
    const url = req.url ?? this.repositoryUrl(req.ref) + req.path;
    let retriedAuth = false;
    for (;;) {
      const authorization = await this.#auth.authorization(registry, scope, req.signal);
      const headers: Record<string, string> = { ...req.headers };
      if (authorization) headers.Authorization = authorization;
      const res = await sendWithRetry(url, this.#withAgent({ method: req.method ?? "GET", headers, body: req.body }),
        { transport: this.#transport, policy: this.#policy, action: req.action, host: registry, signal: req.signal });
      if (res.status !== 401 || retriedAuth || !this.#auth.learn(registry, scope, res)) return res;
      retriedAuth = true;
      const next = await this.#auth.authorization(registry, scope, req.signal);
      // Nothing new to offer (no credentials for Basic): the 401 is the answer.
      if (next === undefined || next === authorization) return res;
      await discard(res);
    }
  }

  /** `request`, but a non-2xx answer becomes its RegistryError (NotFound, FailedPrecondition…). */
  async requestOk(req: RegistryRequest): Promise<HttpResponse> {
    const res = await this.request(req);
    if (res.ok) return res;
    throw await registryErrorFromResponse(res, req.action, req.ref.registry);
  }

  #withAgent(req: HttpRequest): HttpRequest {
    return { ...req, headers: { ...req.headers, "User-Agent": this.#userAgent } };
  }
}
