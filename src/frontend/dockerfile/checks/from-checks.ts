// Checks of the FROM lines against the global ARGs: undeclared args, defaults that give an invalid base
// name, and `--platform` values that are redundant or constant.

import { parseImageRef } from "../../../llb/image-ref.js";
import { parsePlatform } from "../../../oci/platform.js";
import type { ArgCommand, ArgPair, Stage } from "../instructions/commands.js";
import { suggestMatch } from "../instructions/suggest.js";
import type { ProcessWordResult, ShellLex } from "../shell/shell-lex.js";
import {
  FromPlatformFlagConstDisallowed, InvalidDefaultArgInFrom, RedundantTargetPlatform, UndefinedArgInFrom,
} from "./check-rules.js";
import type { Linter } from "./linter.js";

/** What the FROM checks read. */
export interface FromCheckInput {
  stages: readonly Stage[];
  /** The ARG instructions before the first FROM. */
  metaArgs: readonly ArgCommand[];
  /** The predefined platform args (BUILDPLATFORM…), before build-arg overrides. */
  platformArgs: readonly ArgPair[];
  buildArgs: ReadonlyMap<string, string>;
  shlex: ShellLex;
  lint: Linter;
  /** The linter for one stage, with its `# check=` comment merged in. */
  stageLint(stage: Stage): Linter;
}

/**
 * Evaluates the global ARGs as upstream does: platform args (a build arg overrides them), then each
 * global ARG from its build arg (when `withBuildArgs`) or its expanded default; an ARG with neither stays
 * unset. Undefined when a default cannot be expanded (the converter reports that error).
 */
export function evaluateGlobalArgs(input: FromCheckInput, withBuildArgs: boolean): Map<string, string> | undefined {
  const env = new Map<string, string>();
  for (const a of input.platformArgs) env.set(a.key, input.buildArgs.get(a.key) ?? a.value ?? "");
  for (const cmd of input.metaArgs) {
    for (const arg of cmd.args) {
      let value = withBuildArgs ? input.buildArgs.get(arg.key) : undefined;
      if (value === undefined && arg.value !== undefined) {
        try {
          value = input.shlex.processWord(arg.value, env);
        } catch {
          return undefined; // the build fails on this default; nothing sensible to check
        }
      }
      if (value !== undefined) env.set(arg.key, value);
    }
  }
  return env;
}

/** Runs every FROM check, in upstream's order: defaults first, then each stage's FROM line. */
export function checkFromInstructions(input: FromCheckInput): Map<string, string> | undefined {
  checkDefaultBaseNames(input);
  const globals = evaluateGlobalArgs(input, true);
  if (globals === undefined) return undefined;
  const declared = new Set([...input.metaArgs.flatMap((c) => c.args.map((a) => a.key)), ...globals.keys()]);
  for (const st of input.stages) {
    if (!checkStageFrom(st, globals, declared, input)) break;
  }
  return globals;
}

/** InvalidDefaultArgInFrom: with no build args, every base name should still be a valid reference. */
function checkDefaultBaseNames(input: FromCheckInput): void {
  const defaults = evaluateGlobalArgs(input, false);
  if (defaults === undefined) return;
  for (const st of input.stages) {
    let name: string;
    try {
      name = input.shlex.processWord(st.baseName, defaults);
    } catch {
      return; // the build reports the expansion error
    }
    if (!isValidReference(name)) input.lint.run(InvalidDefaultArgInFrom, st.location, InvalidDefaultArgInFrom.format(st.baseName));
  }
}

// One stage's FROM; false when the build will fail on it (later stages are then never reached).
function checkStageFrom(st: Stage, globals: ReadonlyMap<string, string>, declared: ReadonlySet<string>,
  input: FromCheckInput): boolean {
  const lint = input.stageLint(st);
  const name = expand(input.shlex, st.baseName, globals);
  if (name === undefined) return false;
  reportUndeclared(name.unmatched, declared, st, lint);
  if (name.result === "") return false;
  if (st.platform === "") return true;
  const platform = expand(input.shlex, st.platform, globals);
  if (platform === undefined) return false;
  reportUndeclared(platform.unmatched, declared, st, lint);
  if (isRedundantTargetPlatform(platform, globals)) {
    lint.run(RedundantTargetPlatform, st.location, RedundantTargetPlatform.format(st.platform));
  }
  if (isConstantPlatform(st.name, platform)) {
    lint.run(FromPlatformFlagConstDisallowed, st.location, FromPlatformFlagConstDisallowed.format(platform.result));
  }
  return platform.result !== "" && parsesAsPlatform(platform.result);
}

function reportUndeclared(unmatched: ReadonlySet<string>, declared: ReadonlySet<string>, st: Stage, lint: Linter): void {
  for (const arg of unmatched) {
    if (declared.has(arg)) continue;
    lint.run(UndefinedArgInFrom, st.location, UndefinedArgInFrom.format(arg, suggestMatch(arg, [...declared], true) ?? ""));
  }
}

// Only `$TARGETPLATFORM` alone (no other variable, expanding to the target platform) is redundant.
function isRedundantTargetPlatform(m: ProcessWordResult, globals: ReadonlyMap<string, string>): boolean {
  return m.matched.size === 1 && m.unmatched.size === 0 && m.matched.has("TARGETPLATFORM") &&
    m.result === globals.get("TARGETPLATFORM");
}

// A literal platform is fine when the stage name says which one it is (`AS build_arm64`).
function isConstantPlatform(stageName: string, m: ProcessWordResult): boolean {
  if (m.matched.size > 0 || m.unmatched.size > 0) return false;
  let p;
  try {
    p = parsePlatform(m.result);
  } catch {
    return false; // the build reports the bad platform
  }
  return !stageName.includes(p.os) && !stageName.includes(p.architecture);
}

function expand(shlex: ShellLex, word: string, env: ReadonlyMap<string, string>): ProcessWordResult | undefined {
  try {
    return shlex.processWordWithMatches(word, env);
  } catch {
    return undefined; // the converter reports the same expansion error
  }
}

function parsesAsPlatform(s: string): boolean {
  try {
    parsePlatform(s);
    return true;
  } catch {
    return false; // the converter reports the bad platform
  }
}

function isValidReference(name: string): boolean {
  try {
    parseImageRef(name);
    return true;
  } catch {
    return false; // exactly what the rule reports
  }
}
