// SSH agent forwarding as the engine sees a session: an optional ability (a session without it forwards
// no agents), checked with `hasSshForwarding` rather than a method that throws at run time.
import type { Duplex } from "node:stream";

/** The agent id a mount or `--ssh` flag means when it names none (upstream's sshforward.DefaultID). */
export const DEFAULT_SSH_ID = "default";

/** Metadata key naming the agent on a ForwardAgent call. */
export const SSH_ID_METADATA = "buildkit.ssh.id";

export interface SshForwarding {
  /** Resolves when the client forwards agent `id`; NotFound (naming the id) when it does not. */
  checkSsh(id: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Relays one agent connection: bytes read from `conn` reach the client's agent `id`, its answers are
   * written back. Resolves when both directions have ended; destroys `conn` when done or on abort.
   */
  forwardSsh(id: string, conn: Duplex, opts?: { signal?: AbortSignal }): Promise<void>;
}

/** Whether `session` can forward SSH agents. */
export function hasSshForwarding(session: object): session is SshForwarding {
  const s = session as Partial<SshForwarding>;
  return typeof s.checkSsh === "function" && typeof s.forwardSsh === "function";
}

/** The message "no such agent" errors share, so a user sees the flag to add. */
export function noSshAgentMessage(id: string): string {
  return `no SSH key "${id}" forwarded from the client: add --ssh ${id === DEFAULT_SSH_ID ? "default" : `${id}=<agent socket>`}`;
}
