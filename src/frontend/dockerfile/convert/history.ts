// Image history entries for Dockerfile instructions, worded exactly as upstream.

import type { ArgPair } from "../instructions/commands.js";
import type { DockerImage } from "./image-config.js";

export const HISTORY_COMMENT = "buildkit.dockerfile.v0";

/**
 * Appends a history entry. `withLayer` false marks it empty; `fromState` adds upstream's ` # buildkit`
 * suffix (given for RUN, COPY and ADD).
 */
export function commitToHistory(img: DockerImage, msg: string, withLayer: boolean, fromState = false, created?: string): void {
  img.history.push({
    ...(created ? { created } : {}),
    created_by: fromState ? `${msg} # buildkit` : msg,
    comment: HISTORY_COMMENT,
    ...(withLayer ? {} : { empty_layer: true }),
  });
}

/** `|N K=V … args…`: the declared build args (their run-time value) before the command. */
export function runCommandString(args: readonly string[], buildArgs: readonly ArgPair[], env: ReadonlyMap<string, string>): string {
  const entries = new Map<string, string>();
  for (const arg of buildArgs) entries.set(arg.key, `${arg.key}=${env.get(arg.key) ?? arg.value ?? ""}`);
  const prefix = entries.size > 0 ? [`|${entries.size}`, ...entries.values()] : [];
  return [...prefix, ...args].join(" ");
}
