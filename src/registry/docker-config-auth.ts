// Registry credentials from docker's client config (`$DOCKER_CONFIG/config.json`, else
// `~/.docker/config.json`), the same place `docker login` writes: per-host `credHelpers`, a default
// `credsStore`, or base64 `auths` entries. The file is re-read on every lookup so a `docker login` made while
// the daemon runs takes effect.
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { GantryError, canceledError, errnoOf, messageOf } from "../util/errors.js";

/** What a registry accepts as proof of identity. An empty object means anonymous. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth refresh token (docker's `identitytoken`), exchanged at the token realm. */
  identityToken?: string;
  /** A bearer token to send as is (docker's `registrytoken`). */
  registryToken?: string;
}

/** Looks up credentials for a registry host (`docker.io`, `localhost:5000`); undefined means anonymous. */
export type CredentialSource = (registry: string, opts?: { signal?: AbortSignal }) => Promise<RegistryCredentials | undefined>;

// The credentials of the build being served, when its client supplies them (gantryd: the client's session).
const buildCredentials = new AsyncLocalStorage<CredentialSource>();

/**
 * Runs `fn` with `source` standing in for the docker config: every lookup a `dockerConfigCredentials()`
 * source makes inside `fn` (and the async work it starts) asks `source` instead, as upstream's daemon asks
 * the build's session rather than its own config. Registry clients are shared by builds, so the scope
 * travels with the async context, not with the client.
 */
export function withBuildCredentials<T>(source: CredentialSource, fn: () => T): T {
  return buildCredentials.run(source, fn);
}

export interface DockerConfigAuthOptions {
  /** The directory holding config.json; default `$DOCKER_CONFIG`, else `~/.docker`. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  /** How long a credential helper may take; default 30 s. */
  helperTimeoutMs?: number;
  /** Whether a `withBuildCredentials` scope takes over (default true; a client answering for itself says false). */
  followBuildScope?: boolean;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

const DOCKER_HUB_SERVER = "https://index.docker.io/v1/";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/**
 * A `CredentialSource` reading docker's config, unless `withBuildCredentials` scoped another source.
 * Order, as docker: `credHelpers[host]`, then `credsStore`,
 * then `auths` (also consulted when a helper has nothing for the host). A missing file means anonymous;
 * an unreadable or invalid file, or a failing helper, is FailedPrecondition naming the file or helper.
 */
export function dockerConfigCredentials(opts: DockerConfigAuthOptions = {}): CredentialSource {
  const env = opts.env ?? process.env;
  const dir = opts.configDir ?? (env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker"));
  const file = join(dir, "config.json");
  return async (registry, lookup = {}) => {
    const scoped = opts.followBuildScope === false ? undefined : buildCredentials.getStore();
    if (scoped) return scoped(registry, lookup);
    const config = await readDockerConfig(file);
    if (!config) return undefined;
    const host = canonicalHost(registry);
    const helper = findByHost(config.credHelpers ?? {}, host) ?? config.credsStore;
    if (helper) {
      const serverUrl = host === "docker.io" ? DOCKER_HUB_SERVER : registry;
      const fromHelper = await runCredentialHelper(helper, serverUrl,
        { signal: lookup.signal, timeoutMs: opts.helperTimeoutMs ?? 30_000, env });
      if (fromHelper) return fromHelper;
    }
    const entry = findByHost(config.auths ?? {}, host);
    return entry ? credentialsFromEntry(entry, file, registry) : undefined;
  };
}

async function readDockerConfig(file: string): Promise<DockerConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw new GantryError("FailedPrecondition", `Cannot read docker config ${file}: ${messageOf(err)}.`, { cause: err });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as DockerConfigFile;
  } catch (err) {
    throw new GantryError("FailedPrecondition", `Cannot parse docker config ${file}: ${messageOf(err)}.`, { cause: err });
  }
}

/** `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/v2/` → `host:5000`. */
function canonicalHost(key: string): string {
  const host = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0].toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? "docker.io" : host;
}

function findByHost<T>(map: Record<string, T>, host: string): T | undefined {
  if (Object.hasOwn(map, host)) return map[host];
  for (const [key, value] of Object.entries(map)) if (canonicalHost(key) === host) return value;
  return undefined;
}

function credentialsFromEntry(entry: NonNullable<DockerConfigFile["auths"]>[string], file: string,
  registry: string): RegistryCredentials | undefined {
  const creds: RegistryCredentials = {};
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) {
      // Never echo the decoded value: it is a password.
      throw new GantryError("FailedPrecondition",
        `Cannot use the credentials for ${registry} in ${file}: "auth" is not base64 of user:password.`);
    }
    creds.username = decoded.slice(0, colon);
    creds.password = decoded.slice(colon + 1);
  } else if (entry.username) {
    creds.username = entry.username;
    creds.password = entry.password ?? "";
  }
  if (entry.identitytoken) creds.identityToken = entry.identitytoken;
  if (entry.registrytoken) creds.registryToken = entry.registrytoken;
  return Object.keys(creds).length > 0 ? creds : undefined;
}

interface HelperOptions {
  signal?: AbortSignal;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
}

/**
 * Runs `docker-credential-<name> get` with the server URL on stdin. "Not found" answers are undefined;
 * other failures are FailedPrecondition naming the helper (its output is not echoed: it may hold secrets).
 */
export async function runCredentialHelper(name: string, serverUrl: string, opts: HelperOptions): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${name}`;
  const { code, stdout, error } = await runWithInput(program, ["get"], serverUrl, opts);
  if (opts.signal?.aborted) throw canceledError(opts.signal);
  const fail = (why: string): never => {
    throw new GantryError("FailedPrecondition", `Cannot get credentials for ${serverUrl} from ${program}: ${why}.`,
      { cause: error, hint: errnoOf(error) === "ENOENT" ? `Install ${program} or remove it from the docker config.` : undefined });
  };
  if (error) {
    const errno = errnoOf(error);
    fail(errno === "ENOENT" ? "the program is not installed"
      : errno === "ABORT_ERR" ? `it did not answer within ${opts.timeoutMs} ms` : messageOf(error));
  }
  if (code !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    fail(`it exited with status ${code}`);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    return fail("its output is not JSON");
  }
  const username = typeof parsed.Username === "string" ? parsed.Username : "";
  const secret = typeof parsed.Secret === "string" ? parsed.Secret : "";
  if (secret === "") return undefined;
  return username === "<token>" ? { identityToken: secret } : { username, password: secret };
}

function runWithInput(program: string, args: string[], input: string,
  opts: HelperOptions): Promise<{ code: number | null; stdout: string; error?: Error }> {
  return new Promise((resolve) => {
    // Not spawn's `timeout` option: its timer is never cleared when the program does not exist, which
    // keeps the process alive. AbortSignal.timeout's timer does not hold the event loop.
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const child = spawn(program, args, { env: opts.env, signal, stdio: ["pipe", "pipe", "ignore"] });
    let stdout = "";
    let error: Error | undefined;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (s: string) => {
      if (stdout.length < 1024 * 1024) stdout += s;
    });
    child.on("error", (err) => {
      error = err;
      // Spawning failed, or we killed it on timeout/abort: do not wait for 'close', which a grandchild
      // holding the pipe open could delay indefinitely.
      child.stdout.destroy();
      resolve({ code: null, stdout, error });
    });
    // A helper that exits without reading stdin makes the write fail with EPIPE: its exit status says more.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
    child.on("close", (code) => resolve({ code, stdout, error }));
  });
}
