// WORKDIR: sets the dir and, unless it is "/", creates it (owned by the current USER) as its own layer.

import { posix } from "node:path";
import { mkdir } from "../../../llb/state.js";
import type { WorkdirCommand } from "../instructions/commands.js";
import { stateEnv, type DispatchContext } from "./dispatch-context.js";
import type { DispatchState } from "./dispatch-state.js";
import { commitToHistory } from "./history.js";
import { prefixCommand, processCmdEnv, uppercaseCmd } from "./vertex-names.js";

/** Applies a WORKDIR; `ctx` absent applies a base image's WorkingDir (no mkdir, no history). */
export function dispatchWorkdir(d: DispatchState, c: Pick<WorkdirCommand, "path" | "code">, ctx?: DispatchContext): void {
  d.state = d.state.dir(c.path);
  const wd = posix.isAbsolute(c.path) ? c.path : posix.join("/", d.image.config.WorkingDir ?? "", c.path);
  d.image.config.WorkingDir = wd;
  if (ctx === undefined) return;
  let withLayer = false;
  if (wd !== "/") {
    const user = d.image.config.User;
    const name = prefixCommand(d, uppercaseCmd(processCmdEnv(ctx.shlex, c.code, stateEnv(d))));
    d.state = d.state.file(mkdir(wd, 0o755, { parents: true, ...(user ? { owner: user } : {}) }), {
      customName: name,
      ...(d.ignoreCache ? { ignoreCache: true } : {}),
    });
    withLayer = true;
  }
  commitToHistory(d.image, `WORKDIR ${wd}`, withLayer);
}
