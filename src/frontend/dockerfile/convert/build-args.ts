// Build args: global (meta) ARGs before the first FROM, the proxy args that reach RUN without an ARG,
// and the map FROM lines are expanded with.

import type { ExecSpec } from "../../../llb/exec-op.js";
import type { ArgCommand, ArgPair } from "../instructions/commands.js";
import type { ShellLex } from "../shell/shell-lex.js";

/** Args that configure the frontend and never become env variables. */
export const NON_ENV_ARGS: ReadonlySet<string> = new Set(["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"]);

/** A build arg's value if given (`build-arg:K`), else the arg as declared. */
export function withBuildArgValue(arg: ArgPair, values: ReadonlyMap<string, string>): ArgPair {
  const v = values.get(arg.key);
  return v === undefined ? { ...arg } : { key: arg.key, value: v };
}

/** Name → value (unset args count as "") for expanding FROM and global ARG defaults. */
export function argsToMap(args: readonly ArgPair[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of args) m.set(a.key, a.value ?? "");
  return m;
}

/**
 * Evaluates the global ARGs after the platform args: a build arg wins, else the default is expanded
 * with the args defined so far. Returns the full list (platform args first).
 */
export function evaluateMetaArgs(platform: readonly ArgPair[], metaArgs: readonly ArgCommand[],
  buildArgs: ReadonlyMap<string, string>, shlex: ShellLex): ArgPair[] {
  const out = platform.map((a) => withBuildArgValue(a, buildArgs));
  for (const cmd of metaArgs) {
    for (const arg of cmd.args) {
      const given = buildArgs.get(arg.key);
      if (given !== undefined) {
        out.push({ key: arg.key, value: given });
      } else if (arg.value !== undefined) {
        out.push({ key: arg.key, value: expandOrEmpty(shlex, arg.value, argsToMap(out)) });
      } else {
        out.push({ key: arg.key });
      }
    }
  }
  return out;
}

/** The proxy settings given as build args (any case), or undefined when none is. */
export function proxyEnvFromBuildArgs(args: ReadonlyMap<string, string>): ExecSpec["proxyEnv"] {
  const pe: NonNullable<ExecSpec["proxyEnv"]> = {};
  let set = false;
  const fields = { http_proxy: "httpProxy", https_proxy: "httpsProxy", ftp_proxy: "ftpProxy", no_proxy: "noProxy", all_proxy: "allProxy" } as const;
  for (const [k, v] of args) {
    const field = (fields as Record<string, keyof typeof pe | undefined>)[k.toLowerCase()];
    if (field === undefined) continue;
    pe[field] = v;
    set = true;
  }
  return set ? pe : undefined;
}

// Upstream ignores expansion errors in global ARG defaults: the value is then empty.
function expandOrEmpty(shlex: ShellLex, word: string, env: ReadonlyMap<string, string>): string {
  try {
    return shlex.processWord(word, env);
  } catch {
    return "";
  }
}
