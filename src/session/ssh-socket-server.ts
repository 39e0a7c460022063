// The daemon's end of an ssh mount: a unix socket on the host, bound into the container, where every
// connection becomes one ForwardAgent call to the client (upstream's sshforward.MountSSHSocket).
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { GantryError, errnoOf } from "../util/errors.js";
import type { SshForwarding } from "./ssh-forwarding.js";

export interface SshSocketOptions {
  /** The agent id to forward. */
  id: string;
  /** Where to make the socket's private directory (keep it short: socket paths are limited to 107 bytes). */
  parentDir: string;
  uid: number;
  gid: number;
  /** Permission bits of the socket. */
  mode: number;
  /** Ends the listener and every open connection. */
  signal?: AbortSignal;
}

export interface SshSocket {
  /** The socket's path on the host. */
  readonly path: string;
  /** Stops listening, ends open connections and removes the socket and its directory. Idempotent. */
  close(): Promise<void>;
}

/** Listens on a fresh socket owned by uid:gid with `mode`; relays each connection through `session`. */
export async function listenSshSocket(session: SshForwarding, opts: SshSocketOptions): Promise<SshSocket> {
  const dir = await mkdtemp(join(opts.parentDir, "gantry-ssh-"));
  const path = join(dir, "ssh_auth_sock");
  const conns = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (conn) => {
    conns.add(conn);
    conn.once("close", () => conns.delete(conn));
    // One connection failing (the client's agent gone, the process in the container reset) ends only it.
    session.forwardSsh(opts.id, conn, { signal: opts.signal }).catch(() => conn.destroy());
  });
  try {
    await chmod(dir, 0o711); // the container's user must reach the socket inside
    await listen(server, path);
    await chown(path, opts.uid, opts.gid);
    await chmod(path, opts.mode);
  } catch (err) {
    server.close();
    await rm(dir, { recursive: true, force: true });
    throw new GantryError("Internal", `Cannot create the SSH agent socket for "${opts.id}" at ${path}: ${errnoOf(err) ?? String(err)}.`, { cause: err });
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= (async () => {
    opts.signal?.removeEventListener("abort", onAbort);
    for (const c of conns) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  })());
  const onAbort = (): void => void close();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  return { path, close };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
