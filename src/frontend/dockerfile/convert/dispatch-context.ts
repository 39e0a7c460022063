// Settings shared by every instruction of a conversion (upstream's dispatchOpt).

import type { Platform } from "../../../oci/types.js";
import type { RunOptions } from "../../../llb/run-options.js";
import type { State } from "../../../llb/state.js";
import type { ArgPair } from "../instructions/commands.js";
import type { ShellLex } from "../shell/shell-lex.js";
import type { DispatchChecks } from "../checks/dockerfile-checks.js";
import type { DispatchState, DispatchStates } from "./dispatch-state.js";

/** What dispatching an instruction may read besides its stage. */
export interface DispatchContext {
  all: DispatchStates;
  /** Platform args and global ARGs, in order. */
  metaArgs: readonly ArgPair[];
  buildArgValues: ReadonlyMap<string, string>;
  /** The lexer for the Dockerfile's escape token. */
  shlex: ShellLex;
  /** Keeps quotes and unset variables: for RUN display names. */
  runShlex: ShellLex;
  /** Backslash lexer that ignores quotes: for expanding heredoc bodies. */
  heredocShlex: ShellLex;
  buildContext: State;
  proxyEnv: RunOptions["proxyEnv"];
  cacheIdNamespace: string;
  targetPlatform: Platform;
  filename: string;
  /** Build checks run on each dispatched instruction. */
  checks?: DispatchChecks;
}

/** The env a stage's next instruction sees, as a map for word expansion. */
export function stateEnv(d: DispatchState): Map<string, string> {
  return new Map(d.state.envList().map(([k, v]) => [k, v] as [string, string]));
}
