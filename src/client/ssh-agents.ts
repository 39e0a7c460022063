// `--ssh` values (buildctl's `default`, `id=/path/to/agent.sock`) → the agent socket to forward per id,
// for `SolveOptions.ssh`. The parsing lives with the session's ssh code; this is the client's entry to it.
import { parseSshSpec, resolveSshAgents } from "../session/ssh-agent-sockets.js";

/** Agent sockets by id; InvalidArgument/Unimplemented naming the flag value when one cannot be used. */
export function sshAgentsOf(values: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Record<string, string>> {
  return resolveSshAgents(values.map(parseSshSpec), opts);
}
