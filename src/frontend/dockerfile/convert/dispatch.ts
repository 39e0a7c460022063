// Dispatches one instruction onto its stage: expands its words with the stage's env, then applies it.

import { posix } from "node:path";
import { GantryError, messageOf } from "../../../util/errors.js";
import { parseDockerfile } from "../parser/parser.js";
import type { Command } from "../instructions/commands.js";
import { parseInstruction } from "../instructions/parse-instruction.js";
import type { ShellLex } from "../shell/shell-lex.js";
import { dispatchArg } from "./arg.js";
import {
  dispatchCmd, dispatchEntrypoint, dispatchEnv, dispatchHealthcheck, dispatchLabel, dispatchMaintainer, dispatchOnbuild,
  dispatchShell, dispatchStopSignal, dispatchUser, dispatchVolume,
} from "./config-commands.js";
import { dispatchCopy } from "./copy.js";
import { stateEnv, type DispatchContext } from "./dispatch-context.js";
import type { DispatchState, StageCommand } from "./dispatch-state.js";
import { expandCommand, type Expander } from "./expand.js";
import { dispatchExpose } from "./expose.js";
import { locationError } from "./location-error.js";
import { dispatchRun } from "./run.js";
import { toStageCommand } from "./stage-graph.js";
import { dispatchWorkdir } from "./workdir.js";

/** Applies one instruction. Throws LocationError naming the instruction's lines. */
export function dispatchCommand(d: DispatchState, sc: StageCommand, ctx: DispatchContext): void {
  try {
    dispatchExpanded(d, sc, ctx);
  } catch (err) {
    throw locationError(ctx.filename, sc.cmd.location, messageOf(err), err);
  }
}

function dispatchExpanded(d: DispatchState, sc: StageCommand, ctx: DispatchContext): void {
  const word = checkedExpander(d, sc, ctx, ctx.shlex);
  const raw = checkedExpander(d, sc, ctx, ctx.heredocShlex);
  const c: Command = expandCommand(sc.cmd, word, raw);
  ctx.checks?.command(d, sc.cmd, c, stateEnv(d));
  switch (c.kind) {
    case "maintainer": return dispatchMaintainer(d, c);
    case "env": return dispatchEnv(d, c);
    case "run": return dispatchRun(d, c, sc.sources, ctx, word);
    case "workdir": return dispatchWorkdir(d, c, ctx);
    case "add":
      dispatchCopy(d, {
        params: c.sources, source: ctx.buildContext, isAdd: true, code: c.code, chown: c.chown, chmod: c.chmod,
        link: c.link, excludePatterns: c.excludePatterns, parents: false, keepGitDir: c.keepGitDir, checksum: c.checksum,
        unpack: c.unpack,
      }, ctx);
      for (const src of c.sources.sourcePaths) {
        if (!src.startsWith("http://") && !src.startsWith("https://")) d.ctxPaths.add(posix.join("/", src));
      }
      return;
    case "copy": {
      const source = sc.sources[0]?.state ?? ctx.buildContext;
      dispatchCopy(d, {
        params: c.sources, source, isAdd: false, code: c.code, chown: c.chown, chmod: c.chmod, link: c.link,
        excludePatterns: c.excludePatterns, parents: c.parents, checksum: "",
      }, ctx);
      if (sc.sources.length === 0) for (const src of c.sources.sourcePaths) d.ctxPaths.add(posix.join("/", src));
      return;
    }
    case "label": return dispatchLabel(d, c);
    case "onbuild": return dispatchOnbuild(d, c);
    case "cmd": return dispatchCmd(d, c);
    case "entrypoint": return dispatchEntrypoint(d, c);
    case "healthcheck": return dispatchHealthcheck(d, c);
    case "expose": return dispatchExpose(d, c, ctx.shlex);
    case "user": return dispatchUser(d, c, true);
    case "volume": return dispatchVolume(d, c);
    case "stopsignal": return dispatchStopSignal(d, c);
    case "shell": return dispatchShell(d, c);
    case "arg": return dispatchArg(d, c, ctx);
  }
}

/** Expands a word with the stage's env, telling the build checks which variables were unset. */
function checkedExpander(d: DispatchState, sc: StageCommand, ctx: DispatchContext, lex: ShellLex): Expander {
  return (w) => {
    const env = stateEnv(d);
    if (ctx.checks === undefined) return lex.processWord(w, env);
    const r = lex.processWordWithMatches(w, env);
    ctx.checks.unmatchedVars(d, sc.cmd, r.unmatched, env);
    return r.result;
  };
}

/** Runs the ONBUILD triggers of a stage's base image, each parsed as a one-line Dockerfile. */
export function dispatchOnbuildTriggers(d: DispatchState, triggers: readonly string[], ctx: DispatchContext): void {
  for (const trigger of triggers) {
    const { ast } = parseDockerfile(trigger);
    if (ast.children.length !== 1) throw new GantryError("InvalidArgument", "onbuild trigger should be a single expression");
    const cmd = parseInstruction(ast.children[0]);
    if (cmd.kind === "stage") throw new GantryError("InvalidArgument", "FROM isn't allowed as an ONBUILD trigger");
    // Triggers have no lines in this Dockerfile; errors point at the stage's FROM.
    const sc = toStageCommand({ ...cmd, location: d.stage.location }, ctx.all, ctx.filename);
    dispatchCommand(d, sc, ctx);
  }
}
