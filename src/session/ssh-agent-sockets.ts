// The client's side of `--ssh`: which agent socket each id forwards. Like buildctl, `default` (or an id
// with no path) means $SSH_AUTH_SOCK, a path may be an agent socket, and private key files are served by
// an in-process agent (`ssh-key-agent.ts`) whose socket is forwarded like any other.
import { stat } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { GantryError, errnoOf } from "../util/errors.js";
import { DEFAULT_SSH_ID } from "./ssh-forwarding.js";
import { startKeyAgent } from "./ssh-key-agent.js";
import { loadSshPrivateKey } from "./ssh-key-file.js";

/** One `--ssh` value: `default`, `<id>`, or `<id>=<path>[,<path>…]`. */
export interface SshAgentSpec {
  id: string;
  paths: string[];
}

/** Parses one `--ssh` value. InvalidArgument for an empty id. */
export function parseSshSpec(value: string): SshAgentSpec {
  const eq = value.indexOf("=");
  const id = (eq < 0 ? value : value.slice(0, eq)).trim() || DEFAULT_SSH_ID;
  const paths = eq < 0 ? [] : value.slice(eq + 1).split(",").filter((p) => p !== "");
  if (eq === 0) throw new GantryError("InvalidArgument", `Invalid --ssh "${value}": expected default|<id>[=<socket>].`);
  return { id, paths };
}

/**
 * Maps each id to an agent socket: the one given, or an in-process agent over the given key files.
 * InvalidArgument for a duplicate id, an unset $SSH_AUTH_SOCK, a socket mixed with key files, or a key file
 * that cannot be used (encrypted, unsupported type); NotFound for a missing path.
 */
export async function resolveSshAgents(specs: readonly SshAgentSpec[],
  opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Record<string, string>> {
  const env = opts.env ?? process.env;
  const out: Record<string, string> = {};
  for (const spec of specs) {
    if (Object.hasOwn(out, spec.id)) throw new GantryError("InvalidArgument", `Invalid --ssh: duplicate agent id "${spec.id}".`);
    const paths = spec.paths.length ? spec.paths : [env.SSH_AUTH_SOCK ?? ""];
    if (paths[0] === "") {
      throw new GantryError("InvalidArgument", `Invalid --ssh ${spec.id}: invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set.`);
    }
    const sockets = await Promise.all(paths.map((p) => isSocket(p, spec.id)));
    if (sockets.every(Boolean) && paths.length === 1) {
      out[spec.id] = paths[0];
      continue;
    }
    if (sockets.some(Boolean)) {
      throw new GantryError("InvalidArgument", `Invalid --ssh ${spec.id}=${paths.join(",")}: give one agent socket, or key files only.`);
    }
    out[spec.id] = (await startKeyAgent(await Promise.all(paths.map((p) => loadSshPrivateKey(p))))).path;
  }
  return out;
}

async function isSocket(path: string, id: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch (err) {
    if (errnoOf(err) === "ENOENT") throw new GantryError("NotFound", `--ssh ${id}: ${path} does not exist.`, { cause: err });
    throw err;
  }
}

/** Connects to the agent socket at `path`; Unavailable (naming the path) when nothing listens there. */
export function dialSshAgent(path: string, opts: { signal?: AbortSignal } = {}): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const sock = createConnection({ path, signal: opts.signal, allowHalfOpen: true });
    const onError = (err: Error): void => {
      reject(new GantryError("Unavailable", `Cannot connect to the SSH agent at ${path}: ${errnoOf(err) ?? err.message}.`, { cause: err }));
    };
    sock.once("error", onError);
    sock.once("connect", () => {
      sock.off("error", onError);
      resolve(sock);
    });
  });
}
