// Progress names of Dockerfile steps: `[stage 2/5] RUN …`, with variables expanded as upstream shows them.

import type { ShellLex } from "../shell/shell-lex.js";
import type { DispatchState } from "./dispatch-state.js";

/** Prefixes `str` with `[stage i/n] ` and counts the step; unchanged for stages without counted steps. */
export function prefixCommand(ds: DispatchState, str: string): string {
  if (ds.cmdTotal === 0) return str;
  let out = "[";
  if (ds.stageName !== "") out += `${ds.stageName} `;
  ds.cmdIndex++;
  const width = String(ds.cmdTotal).length;
  return `${out}${String(ds.cmdIndex).padStart(width, " ")}/${ds.cmdTotal}] ${str}`;
}

/** Upper-cases the instruction keyword only. */
export function uppercaseCmd(str: string): string {
  const sp = str.indexOf(" ");
  return sp < 0 ? str.toUpperCase() : str.slice(0, sp).toUpperCase() + str.slice(sp);
}

/** `cmd` with variables expanded, or as written when expansion fails. */
export function processCmdEnv(shlex: ShellLex, cmd: string, env: ReadonlyMap<string, string>): string {
  try {
    return shlex.processWord(cmd, env);
  } catch {
    return cmd; // a display name only: keep the text when it does not expand
  }
}

/** `[internal] <name>`, the name of frontend-internal vertices. */
export function internalName(name: string): string {
  return `[internal] ${name}`;
}
