// The environment a gateway frontend container gets, with upstream's names (frontend/gateway/gateway.go):
// one `BUILDKIT_FRONTEND_OPT_<i>=<key>=<value>` per frontend option, the session id, the workers as JSON
// and the product name. The frontend program reads its options back from the same variables.

export const FRONTEND_OPT_PREFIX = "BUILDKIT_FRONTEND_OPT_";
export const SESSION_ID_ENV = "BUILDKIT_SESSION_ID";
export const WORKERS_ENV = "BUILDKIT_WORKERS";
export const EXPORTED_PRODUCT_ENV = "BUILDKIT_EXPORTEDPRODUCT";
/** The product name upstream advertises in caps negotiation. */
export const EXPORTED_PRODUCT = "gantry";

/** A worker as upstream's WorkerInfos JSON spells it. */
export interface GatewayWorker {
  ID: string;
  Labels: Record<string, string>;
  Platforms: Array<{ architecture: string; os: string; variant?: string }>;
}

/** The `K=V` entries appended to the image's own env for a frontend run with options `attrs`. */
export function gatewayEnv(attrs: Record<string, string>, info: { sessionId: string; workers: GatewayWorker[] }): string[] {
  const env = Object.entries(attrs).map(([k, v], i) => `${FRONTEND_OPT_PREFIX}${i}=${k}=${v}`);
  env.push(`${SESSION_ID_ENV}=${info.sessionId}`);
  env.push(`${WORKERS_ENV}=${JSON.stringify(info.workers)}`);
  env.push(`${EXPORTED_PRODUCT_ENV}=${EXPORTED_PRODUCT}`);
  return env;
}

/** The frontend options carried by `env` (a process environment), as `gatewayEnv` wrote them. */
export function frontendOptsFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const opts: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(FRONTEND_OPT_PREFIX) || value === undefined) continue;
    const eq = value.indexOf("=");
    // A value without `=` names an option with an empty value, as upstream's client reads it.
    if (eq < 0) opts[value] = "";
    else opts[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return opts;
}
