// Per-stage conversion state (upstream's dispatchState) and the set of all stages with their lookups,
// dependencies and reachability from the target.

import type { Platform } from "../../../oci/types.js";
import { scratch, type State } from "../../../llb/state.js";
import { GantryError } from "../../../util/errors.js";
import type { ArgPair, Command, Stage } from "../instructions/commands.js";
import { emptyImage, type DockerImage } from "./image-config.js";
import { newStageOutline, type StageOutline } from "./stage-outline.js";

/** An instruction plus the stages it reads (COPY --from, RUN --mount from). */
export interface StageCommand {
  cmd: Command;
  sources: DispatchState[];
}

/** One stage being converted; mutable while its instructions are dispatched. */
export interface DispatchState {
  stage: Stage;
  /** `name`, `stage-N`, or "" when the build has one stage (names prefix vertex names). */
  stageName: string;
  state: State;
  image: DockerImage;
  platform?: Platform;
  /** The earlier stage this one is built FROM. */
  base?: DispatchState;
  /** True when a named context replaced the stage: its instructions are not run. */
  noinit: boolean;
  deps: Set<DispatchState>;
  commands: StageCommand[];
  /** ARGs declared in the stage, with their values (for RUN history and env). */
  buildArgs: ArgPair[];
  /** Context paths COPY/ADD read (the context's follow paths). */
  ctxPaths: Set<string>;
  ignoreCache: boolean;
  cmdSet: boolean;
  /** A stage created for an image named by COPY --from or RUN --mount from. */
  unregistered: boolean;
  cmdIndex: number;
  cmdTotal: number;
  /** Args, secrets and SSH the stage reads, for the `frontend.outline` subrequest. */
  outline: StageOutline;
}

/** A fresh state for a stage; `state`/`image` are placeholders until the base is resolved. */
export function newDispatchState(stage: Stage, fields: Partial<DispatchState> = {}): DispatchState {
  return {
    stage, stageName: stage.name, state: scratch(), image: emptyImage({ os: "linux", architecture: "amd64" }),
    noinit: false, deps: new Set(), commands: [], buildArgs: [], ctxPaths: new Set(), ignoreCache: false,
    cmdSet: false, unregistered: false, cmdIndex: 0, cmdTotal: 0, outline: newStageOutline(), ...fields,
  };
}

/** All stages in order, by lower-cased name. */
export class DispatchStates {
  readonly states: DispatchState[] = [];
  readonly #byName = new Map<string, DispatchState>();

  /** Adds a stage; links it to an earlier stage of the same name as its base. */
  add(ds: DispatchState): void {
    this.states.push(ds);
    const base = this.#byName.get(ds.stage.baseName.toLowerCase());
    if (base !== undefined) ds.base = base;
    if (ds.stage.name !== "") this.#byName.set(ds.stage.name.toLowerCase(), ds);
  }

  findByName(name: string): DispatchState | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** Throws InvalidArgument for an index out of range. */
  findByIndex(index: number): DispatchState {
    const ds = this.states[index];
    if (index < 0 || ds === undefined) throw new GantryError("InvalidArgument", `invalid stage index ${index}`);
    return ds;
  }

  last(): DispatchState {
    return this.states[this.states.length - 1];
  }
}

/** True when `to` is `from`, its base chain, or a stage it reads, transitively. */
export function isReachable(from: DispatchState | undefined, to: DispatchState, seen = new Set<DispatchState>()): boolean {
  if (from === undefined || seen.has(from)) return false;
  seen.add(from);
  if (from === to || isReachable(from.base, to, seen)) return true;
  for (const d of from.deps) if (isReachable(d, to, seen)) return true;
  return false;
}

/** The first stage found on a dependency cycle, if any. */
export function findCircularDependency(states: readonly DispatchState[]): DispatchState | undefined {
  const visited = new Set<DispatchState>();
  const path = new Set<DispatchState>();
  const visit = (s: DispatchState): boolean => {
    if (visited.has(s)) return false;
    visited.add(s);
    path.add(s);
    for (const dep of s.deps) if (path.has(dep) || visit(dep)) return true;
    path.delete(s);
    return false;
  };
  return states.find((s) => visit(s));
}
