// The client's side of `--ssh`: which agent socket each id forwards. Like buildctl, `default` (or an id
// with no path) means $SSH_AUTH_SOCK. Upstream also accepts private key files and serves them from an
// in-process agent; Gantry forwards agent sockets only and says so for anything else.
import { stat } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { GantryError, errnoOf } from "../util/errors.js";
import { DEFAULT_SSH_ID } from "./ssh-forwarding.js";

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
 * Maps each id to an agent socket, checking that it is one. InvalidArgument for a duplicate id or an
 * unset $SSH_AUTH_SOCK; NotFound for a missing path; Unimplemented for key files.
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
    if (paths.length > 1 || !(await isSocket(paths[0], spec.id))) {
      throw new GantryError("Unimplemented",
        `--ssh ${spec.id}=${paths.join(",")}: only an agent socket can be forwarded; private key files are not supported yet ` +
        "(load them with ssh-add into an ssh-agent and pass its socket).");
    }
    out[spec.id] = paths[0];
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
