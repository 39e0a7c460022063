// RUN: the command (shell or exec form, heredocs), its mounts, network and security, as an exec op.

import { posix } from "node:path";
import { mkfile, scratch, type State } from "../../../llb/state.js";
import type { MountOptions, RunOptions } from "../../../llb/run-options.js";
import { GantryError } from "../../../util/errors.js";
import type { RunCommand } from "../instructions/commands.js";
import { chompHeredocContent, parseHeredoc } from "../parser/heredoc.js";
import { withShell } from "./config-commands.js";
import { stateEnv, type DispatchContext } from "./dispatch-context.js";
import type { DispatchState } from "./dispatch-state.js";
import type { Expander } from "./expand.js";
import { commitToHistory, runCommandString } from "./history.js";
import { runMounts } from "./run-mounts.js";
import { internalName, prefixCommand, processCmdEnv, uppercaseCmd } from "./vertex-names.js";

const DF_COMMAND = "com.docker.dockerfile.v1.command";

/** Dispatches RUN: adds an exec op on the stage's state and a history entry with the build args. */
export function dispatchRun(d: DispatchState, c: RunCommand, sources: readonly DispatchState[], ctx: DispatchContext,
  expand: Expander): void {
  const mounts: MountOptions<State>[] = [];
  let customName = c.code;
  let args = [...c.cmdLine];
  if (c.files.length > 0) {
    const heredoc = heredocArgs(d, c, mounts);
    args = heredoc.args;
    customName += heredoc.nameSuffix;
  }
  if (c.prependShell) args = withShell(d.image, args);
  const env = stateEnv(d);
  mounts.push(...runMounts(d, c, sources, ctx, expand));
  const opts: RunOptions<State> = {
    args,
    mounts,
    description: { [DF_COMMAND]: c.code },
    customName: prefixCommand(d, uppercaseCmd(processCmdEnv(ctx.runShlex, customName, env))),
  };
  if (d.ignoreCache) opts.ignoreCache = true;
  if (ctx.proxyEnv) opts.proxyEnv = ctx.proxyEnv;
  if (c.network !== "default") opts.network = c.network;
  if (c.security === "insecure") opts.security = "insecure";
  d.state = d.state.run(opts).root();
  commitToHistory(d.image, `RUN ${runCommandString(args, d.buildArgs, env)}`, true, true);
}

/** RUN with heredocs: a lone heredoc runs as a script (its shebang, or the shell); others go to the shell. */
function heredocArgs(d: DispatchState, c: RunCommand, mounts: MountOptions<State>[]): { args: string[]; nameSuffix: string } {
  if (c.cmdLine.length !== 1 || !c.prependShell) {
    throw new GantryError("InvalidArgument", `parsing produced an invalid run command: [${c.cmdLine.join(" ")}]`);
  }
  if (parseHeredoc(c.cmdLine[0]) === undefined) {
    let full = c.cmdLine[0];
    for (const f of c.files) full += `\n${f.data}${f.name}`;
    return { args: [full], nameSuffix: "" };
  }
  const file = c.files[0];
  const data = file.chomp ? chompHeredocContent(file.data) : file.data;
  const nameSuffix = ` (${summarizeHeredoc(file.data)})`;
  if (d.image.os !== "windows" && data.startsWith("#!")) {
    const st = scratch().dir("/").file(mkfile(file.name, 0o755, data), { customName: internalName("preparing inline document") });
    mounts.push({ target: "/dev/pipes/", source: st, selector: "/", readonly: true });
    return { args: [posix.join("/dev/pipes/", file.name)], nameSuffix };
  }
  return { args: [data], nameSuffix };
}

function summarizeHeredoc(doc: string): string {
  const lines = doc.trim().replace(/\r\n/g, "\n").split("\n");
  return lines.length > 1 ? `${lines[0]}...` : lines[0];
}
