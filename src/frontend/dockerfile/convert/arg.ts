// ARG inside a stage: takes the build arg, else its default, else the global ARG of that name; the
// value becomes visible to RUN as an env variable (not in the image config).

import type { ArgCommand } from "../instructions/commands.js";
import { NON_ENV_ARGS, withBuildArgValue } from "./build-args.js";
import type { DispatchContext } from "./dispatch-context.js";
import type { DispatchState } from "./dispatch-state.js";
import { commitToHistory } from "./history.js";

export function dispatchArg(d: DispatchState, c: ArgCommand, ctx: DispatchContext): void {
  const commitStrs: string[] = [];
  for (const arg of c.args) {
    const buildArg = withBuildArgValue(arg, ctx.buildArgValues);
    commitStrs.push(arg.value === undefined ? arg.key : `${arg.key}=${arg.value}`);
    let inherited = false;
    if (buildArg.value === undefined) {
      for (const ma of ctx.metaArgs) if (ma.key === buildArg.key) buildArg.value = ma.value;
      inherited = buildArg.value !== undefined;
    }
    d.outline.args.push({ key: buildArg.key, ...(buildArg.value !== undefined ? { value: buildArg.value } : {}), location: c.location, inherited });
    if (buildArg.value !== undefined && !NON_ENV_ARGS.has(buildArg.key)) {
      d.state = d.state.env(buildArg.key, buildArg.value);
    }
    d.buildArgs.push(buildArg);
  }
  commitToHistory(d.image, `ARG ${commitStrs.join(" ")}`, false);
}
