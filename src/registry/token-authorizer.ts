// Registry authorization: learns each registry's challenge from its first 401, then sends Basic credentials
// or a Bearer token obtained from the challenge's realm. Tokens are cached per registry, scope and identity
// until shortly before they expire; concurrent requests for the same token share one fetch.
import { createHash } from "node:crypto";
import { canceledError, GantryError } from "../util/errors.js";
import { FlightGroup } from "../util/flight-group.js";
import { parseAuthChallenges, type AuthChallenge } from "./auth-challenge.js";
import type { CredentialSource, RegistryCredentials } from "./docker-config-auth.js";
import type { HttpRequest, HttpResponse } from "./http-transport.js";
import { registryErrorFromResponse } from "./registry-error.js";

/** Sends one request (with the client's retries); `action` completes "Cannot …". */
export type AuthSend = (url: string, req: HttpRequest, action: string) => Promise<HttpResponse>;

export interface TokenAuthorizerOptions {
  credentials?: CredentialSource;
  send: AuthSend;
  /** Sent as `client_id` when exchanging a refresh token. */
  clientId?: string;
  now?: () => number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

const DEFAULT_TOKEN_SECONDS = 60;
const EXPIRY_MARGIN_MS = 10_000;

/** Holds per-registry auth state for one `RegistryClient`. */
export class TokenAuthorizer {
  readonly #opts: TokenAuthorizerOptions;
  readonly #challenges = new Map<string, AuthChallenge>();
  readonly #tokens = new Map<string, CachedToken>();
  readonly #fetches = new FlightGroup<string, CachedToken>();

  constructor(opts: TokenAuthorizerOptions) {
    this.#opts = opts;
  }

  /**
   * The Authorization header for a request to `registry` needing `scope` (`repository:x:pull`), from the
   * challenge learned earlier; undefined before any challenge or when there is nothing to send.
   */
  async authorization(registry: string, scope: string, signal?: AbortSignal): Promise<string | undefined> {
    const challenge = this.#challenges.get(registry);
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") {
      const creds = await this.#credentials(registry, signal);
      return creds?.username === undefined ? undefined
        : `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64")}`;
    }
    // Tokens are kept per identity too: gantryd's builds share this client but bring their own credentials.
    const creds = await this.#credentials(registry, signal);
    const key = `${registry} ${scope} ${identityOf(creds)}`;
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > this.#now()) return `Bearer ${cached.value}`;
    const token = await raceSignal(this.#fetches.do(key, () => this.#fetchToken(registry, scope, challenge, creds)), signal);
    this.#tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  /**
   * Learns from a 401 response: keeps its Bearer (preferred) or Basic challenge for the registry and drops
   * the token cached for `scope`, which the registry just refused. False when no usable challenge came.
   */
  learn(registry: string, scope: string, res: Pick<HttpResponse, "headers">): boolean {
    const all = parseAuthChallenges(res.headers.get("www-authenticate") ?? "");
    const pick = all.find((c) => c.scheme === "bearer" && c.params.realm) ?? all.find((c) => c.scheme === "basic");
    if (!pick) return false;
    this.#challenges.set(registry, pick);
    for (const key of this.#tokens.keys()) if (key.startsWith(`${registry} ${scope} `)) this.#tokens.delete(key);
    return true;
  }

  async #fetchToken(registry: string, scope: string, challenge: AuthChallenge, creds: RegistryCredentials | undefined): Promise<CachedToken> {
    if (creds?.registryToken) return { value: creds.registryToken, expiresAt: Number.POSITIVE_INFINITY };
    const realm = parseRealm(challenge.params.realm, registry);
    const scopes = [...new Set([scope, ...(challenge.params.scope ?? "").split(" ")].filter(Boolean))];
    const service = challenge.params.service;
    const action = `get a registry token for ${registry} from ${realm.origin}${realm.pathname}`;
    let res: HttpResponse;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken,
        client_id: this.#opts.clientId ?? "gantry", scope: scopes.join(" ") });
      if (service) form.set("service", service);
      const body = form.toString();
      res = await this.#opts.send(realm.href, { method: "POST", body: () => body,
        headers: { "Content-Type": "application/x-www-form-urlencoded" } }, action);
    } else {
      if (service) realm.searchParams.set("service", service);
      for (const s of scopes) realm.searchParams.append("scope", s);
      const headers: Record<string, string> = {};
      if (creds?.username !== undefined) {
        realm.searchParams.set("account", creds.username);
        headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64")}`;
      }
      res = await this.#opts.send(realm.href, { method: "GET", headers }, action);
    }
    if (!res.ok) throw await registryErrorFromResponse(res, action, registry);
    return this.#parseToken(res, action);
  }

  async #parseToken(res: HttpResponse, action: string): Promise<CachedToken> {
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = await res.json() as typeof body;
    } catch {
      throw new GantryError("FailedPrecondition", `Cannot ${action}: the answer is not JSON.`);
    }
    const value = typeof body.token === "string" && body.token ? body.token
      : typeof body.access_token === "string" ? body.access_token : "";
    if (!value) throw new GantryError("FailedPrecondition", `Cannot ${action}: the answer holds no token.`);
    const seconds = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    return { value, expiresAt: this.#now() + Math.max(0, seconds * 1000 - EXPIRY_MARGIN_MS) };
  }

  async #credentials(registry: string, signal?: AbortSignal): Promise<RegistryCredentials | undefined> {
    return this.#opts.credentials?.(registry, { signal });
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }
}

/** A short stand-in for who the credentials are, so cached tokens never cross identities. */
function identityOf(creds: RegistryCredentials | undefined): string {
  if (!creds) return "anonymous";
  return createHash("sha256").update(JSON.stringify([creds.username, creds.password, creds.identityToken, creds.registryToken])).digest("hex").slice(0, 16);
}

function parseRealm(realm: string | undefined, registry: string): URL {
  let url: URL | undefined;
  try {
    url = realm ? new URL(realm) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new GantryError("FailedPrecondition", `Cannot authenticate to ${registry}: its token realm is not an http(s) URL.`);
  }
  return url;
}

/** Waits for `p`, but gives up with Canceled when `signal` fires (the shared work goes on for others). */
function raceSignal<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(canceledError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(canceledError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    void p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
