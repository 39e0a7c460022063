// Registry auth over the session (`moby.filesync.v1.Auth`). The client answers `Credentials` from its own
// docker config; the daemon asks it, once per host and build, instead of reading the daemon's config.
// FetchToken and the token-authority methods are not served: a client may leave them out, and the daemon
// then fetches tokens itself with the credentials it got, as upstream's does.
import { Auth } from "../gen/moby/filesync/v1/auth_pb.js";
import type { CredentialSource, RegistryCredentials } from "../registry/docker-config-auth.js";
import { codeOf } from "../util/errors.js";
import type { GrpcHandler } from "./grpc-h2-server.js";
import type { GrpcH2Client } from "./grpc-h2-client.js";
import { callUnary, methodPath, unaryRoute } from "./grpc-typed.js";

/** The method the daemon checks for before asking a session for credentials. */
export const CREDENTIALS_METHOD = methodPath(Auth.method.credentials);

/**
 * The client's Credentials route over `source`. As upstream's provider does, an identity token goes in
 * `Secret` with an empty `Username`; a host without credentials gets an empty answer (anonymous).
 */
export function registryAuthRoute(source: CredentialSource): [string, GrpcHandler] {
  return unaryRoute(Auth.method.credentials, async (req, call) => {
    const creds = await source(req.Host, { signal: call.signal });
    if (!creds) return {};
    if (creds.identityToken) return { Username: "", Secret: creds.identityToken };
    return { Username: creds.username ?? "", Secret: creds.password ?? "" };
  });
}

/** Asks the client at `client` for `host`'s credentials; undefined means anonymous. */
export async function fetchSessionCredentials(client: GrpcH2Client, host: string,
  opts: { signal?: AbortSignal } = {}): Promise<RegistryCredentials | undefined> {
  const res = await callUnary(client, Auth.method.credentials, { Host: host }, { signal: opts.signal }).catch((err: unknown) => {
    // A client that cannot say (no such method, no such host) leaves the pull anonymous, as upstream's.
    const code = codeOf(err);
    if (code === "NotFound" || code === "Unimplemented") return undefined;
    throw err;
  });
  if (!res) return undefined;
  if (res.Username === "" && res.Secret === "") return undefined;
  if (res.Username === "") return { identityToken: res.Secret };
  return { username: res.Username, password: res.Secret };
}

/**
 * A CredentialSource for one build over `lookup` (a session's Credentials call): each host is asked once
 * and the answer kept for the build, since registry clients ask before every request.
 */
export function memoizedCredentials(lookup: CredentialSource): CredentialSource {
  const byHost = new Map<string, Promise<RegistryCredentials | undefined>>();
  return (host, opts) => {
    let p = byHost.get(host);
    if (!p) {
      p = lookup(host, opts);
      byHost.set(host, p);
      // A failed lookup (the session hiccuped, the call was canceled) is asked again next time.
      p.catch(() => byHost.delete(host));
    }
    return p;
  };
}
