// Builds the stage graph: one DispatchState per FROM (base names and platforms expanded with the global
// ARGs), instruction counts for vertex names, and the stages each instruction reads.

import { parsePlatform } from "../../../oci/platform.js";
import type { Platform } from "../../../oci/types.js";
import { GantryError, messageOf } from "../../../util/errors.js";
import type { Command, Stage } from "../instructions/commands.js";
import type { ShellLex } from "../shell/shell-lex.js";
import type { FrontendSettings, NamedContextResolver } from "./convert-options.js";
import { DispatchStates, newDispatchState, type DispatchState, type StageCommand } from "./dispatch-state.js";
import { locationError } from "./location-error.js";

export const SCRATCH = "scratch";

/** What building the graph needs. */
export interface StageGraphOptions {
  shlex: ShellLex;
  globalArgs: ReadonlyMap<string, string>;
  settings: FrontendSettings;
  targetPlatform: Platform;
  namedContexts?: NamedContextResolver;
  filename: string;
}

/** Creates the states of all stages in file order. Throws LocationError naming the FROM line at fault. */
export async function createDispatchStates(stages: readonly Stage[], opts: StageGraphOptions): Promise<DispatchStates> {
  const all = new DispatchStates();
  for (const [i, st] of stages.entries()) {
    const fromArgs = new Set<string>();
    const stage = { ...st, baseName: expandFromWord(st, st.baseName, opts, fromArgs) };
    if (stage.baseName === "") throw locationError(opts.filename, st.location, `base name (${st.baseName}) should not be blank`);
    const ds = newDispatchState(stage);
    if (st.platform !== "") ds.platform = parseStagePlatform(st, opts, fromArgs);
    ds.outline.fromArgs = fromArgs;
    if (st.name !== "" && opts.namedContexts) {
      const named = await opts.namedContexts(st.name, ds.platform ?? opts.targetPlatform);
      if (named !== undefined) {
        ds.noinit = true;
        ds.state = named.state;
        if (named.image) ds.image = named.image;
        all.add(ds);
        continue;
      }
    }
    if (st.name === "") ds.stageName = `stage-${i}`;
    all.add(ds);
    ds.cmdTotal = countSteps(ds);
    ds.ignoreCache = ignoresCache(st.name, opts.settings.ignoreCache);
  }
  return all;
}

/** Finds the target stage (`target` attr, else the last one). Throws InvalidArgument when absent. */
export function findTarget(all: DispatchStates, target: string): DispatchState {
  if (target === "") return all.last();
  const ds = all.findByName(target);
  if (ds === undefined) throw new GantryError("InvalidArgument", `target stage ${target} could not be found`);
  return ds;
}

/** Resolves what each instruction reads and records it as the stage's dependencies. */
export function linkCommands(all: DispatchStates, filename: string): void {
  for (const d of [...all.states]) {
    d.commands = d.stage.commands.map((cmd) => toStageCommand(cmd, all, filename));
    for (const { sources } of d.commands) {
      for (const src of sources) {
        d.deps.add(src);
        if (src.unregistered && !all.states.includes(src)) all.add(src);
      }
    }
  }
}

/** The stages an instruction reads: COPY --from (index, name or image) and RUN mount sources. */
export function toStageCommand(cmd: Command, all: DispatchStates, filename: string): StageCommand {
  if (cmd.kind === "copy" && cmd.from !== "") {
    let src: DispatchState;
    if (/^[+-]?\d+$/.test(cmd.from)) {
      try {
        src = all.findByIndex(Number(cmd.from));
      } catch (err) {
        throw locationError(filename, cmd.location, messageOf(err), err);
      }
    } else {
      src = all.findByName(cmd.from) ?? imageStage(cmd.from, cmd);
    }
    return { cmd, sources: [src] };
  }
  if (cmd.kind === "run") {
    const sources = cmd.mounts.map((m) => {
      const from = m.from === "" ? SCRATCH : m.from;
      return all.findByName(from) ?? imageStage(from, cmd);
    });
    return { cmd, sources };
  }
  return { cmd, sources: [] };
}

function imageStage(ref: string, cmd: Command): DispatchState {
  const stage: Stage = { kind: "stage", name: "", baseName: ref, platform: "", sourceCode: "", location: cmd.location, commands: [] };
  return newDispatchState(stage, { stageName: "", unregistered: true });
}

function expandFromWord(st: Stage, word: string, opts: StageGraphOptions, used: Set<string>): string {
  try {
    const r = opts.shlex.processWordWithMatches(word, opts.globalArgs);
    for (const name of r.matched) used.add(name);
    return r.result;
  } catch (err) {
    throw locationError(opts.filename, st.location, messageOf(err), err);
  }
}

function parseStagePlatform(st: Stage, opts: StageGraphOptions, used: Set<string>): Platform {
  const v = expandFromWord(st, st.platform, opts, used);
  try {
    return parsePlatform(v);
  } catch (err) {
    throw locationError(opts.filename, st.location, `failed to parse platform ${v}: ${messageOf(err)}`, err);
  }
}

// FROM counts as a step unless it is scratch or another stage; so do ADD, COPY, RUN and WORKDIR.
function countSteps(ds: DispatchState): number {
  let total = ds.stage.baseName !== SCRATCH && ds.base === undefined ? 1 : 0;
  for (const c of ds.stage.commands) {
    if (c.kind === "add" || c.kind === "copy" || c.kind === "run" || c.kind === "workdir") total++;
  }
  return total;
}

function ignoresCache(name: string, ignore: string[] | undefined): boolean {
  if (ignore === undefined) return false;
  if (ignore.length === 0) return true;
  return name !== "" && ignore.some((n) => n.toLowerCase() === name.toLowerCase());
}
