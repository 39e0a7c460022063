// Checks run while the converter dispatches a stage's instructions: they see the stage's env, its
// declared ARGs and image config at that point, as upstream's checks inside dispatch do.

import { posix } from "node:path";
import type { SourceRange } from "../../../util/errors.js";
import { createPatternMatcher, type PatternMatcher } from "../../../util/pattern-matcher.js";
import type { AddCommand, ArgCommand, Command, CopyCommand, ExposeCommand } from "../instructions/commands.js";
import { suggestMatch } from "../instructions/suggest.js";
import type { ShellLex } from "../shell/shell-lex.js";
import { NON_ENV_ARGS } from "../convert/build-args.js";
import { isHttpSource, parseGitRef } from "../convert/remote-sources.js";
import {
  CopyIgnoredFile, ExposeInvalidFormat, ExposeProtoCasing, JSONArgsRecommended, LegacyKeyValueFormat,
  MultipleInstructionsDisallowed, SecretsUsedInArgOrEnv, UndefinedVar, WorkdirRelativePath,
} from "./check-rules.js";
import { keywordOf } from "./instruction-checks.js";
import type { Linter } from "./linter.js";
import { isSecretKey } from "./secret-keys.js";

/** The parts of the converter's per-stage state the checks read. */
export interface CheckedStage {
  /** The earlier stage this one is built FROM. */
  readonly base?: CheckedStage;
  /** ARGs declared in the stage so far. */
  readonly buildArgs: readonly { readonly key: string }[];
  readonly image: { readonly config: { readonly Shell?: readonly string[] } };
  readonly platform?: { readonly os: string };
}

/** Settings shared by all command checks of one build. */
export interface CommandCheckOptions {
  shlex: ShellLex;
  buildArgs: ReadonlyMap<string, string>;
  /** The evaluated global ARGs (an ARG without default inherits from them). */
  globalArgs: ReadonlyMap<string, string>;
  /** `.dockerignore` patterns of the build context. */
  dockerignore: readonly string[];
  /** The linter for one instruction, with its `# check=` comment merged in. */
  lintFor(location: readonly SourceRange[]): Linter;
}

interface StageTracker {
  workdirSet: boolean;
  cmd?: readonly SourceRange[];
  entrypoint?: readonly SourceRange[];
  healthcheck?: readonly SourceRange[];
}

/** Per-build state of the dispatch-time checks: trackers per stage, the .dockerignore matcher. */
export class CommandChecks {
  readonly #o: CommandCheckOptions;
  readonly #stages = new WeakMap<CheckedStage, StageTracker>();
  readonly #ignore: PatternMatcher | undefined;

  constructor(opts: CommandCheckOptions) {
    this.#o = opts;
    this.#ignore = opts.dockerignore.length > 0 ? createPatternMatcher(opts.dockerignore) : undefined;
  }

  /**
   * Checks one instruction. `cmd` is as written, `expanded` after variable expansion (for COPY sources,
   * ENV keys, WORKDIR paths); `env` is the stage's env before the instruction.
   */
  command(d: CheckedStage, cmd: Command, expanded: Command, env: ReadonlyMap<string, string>): void {
    const lint = this.#o.lintFor(cmd.location);
    const keyword = keywordOf(cmd.code);
    const t = this.#tracker(d);
    switch (expanded.kind) {
      case "env":
        for (const e of expanded.env) {
          if (e.noDelim) lint.run(LegacyKeyValueFormat, cmd.location, LegacyKeyValueFormat.format(keyword));
          if (isSecretKey(e.key)) lint.run(SecretsUsedInArgOrEnv, cmd.location, SecretsUsedInArgOrEnv.format("ENV", e.key));
        }
        return;
      case "label":
        for (const l of expanded.labels) {
          if (l.noDelim) lint.run(LegacyKeyValueFormat, cmd.location, LegacyKeyValueFormat.format(keyword));
        }
        return;
      case "cmd":
      case "entrypoint":
        usedOnce(t, expanded.kind, cmd.location, keyword, lint);
        if (expanded.prependShell && (d.image.config.Shell ?? []).length === 0) {
          lint.run(JSONArgsRecommended, cmd.location, JSONArgsRecommended.format(keyword));
        }
        return;
      case "healthcheck":
        return usedOnce(t, "healthcheck", cmd.location, keyword, lint);
      case "workdir":
        if (!t.workdirSet && !isAbsolute(expanded.path, d.platform?.os)) {
          lint.run(WorkdirRelativePath, cmd.location, WorkdirRelativePath.format(expanded.path));
        }
        t.workdirSet = true;
        return;
      case "copy":
      case "add":
        return this.#checkIgnored(expanded, lint);
      case "expose":
        return this.#checkExpose(expanded, env, lint);
      case "arg":
        return this.#checkArg(d, cmd.kind === "arg" ? cmd : expanded, env, lint);
      default:
        return;
    }
  }

  /**
   * Reports the variables one word expansion of `cmd` found unset (UndefinedVar), leaving out the
   * stage's declared ARGs. ARG defaults are checked by `command` instead, as upstream.
   */
  unmatchedVars(d: CheckedStage, cmd: Command, unmatched: ReadonlySet<string>, env: ReadonlyMap<string, string>): void {
    if (cmd.kind === "arg" || unmatched.size === 0) return;
    this.#reportUndefined(declaredArgs(d), unmatched, env, this.#o.lintFor(cmd.location), cmd.location);
  }

  #reportUndefined(declared: ReadonlySet<string>, unmatched: ReadonlySet<string>, env: ReadonlyMap<string, string>,
    lint: Linter, location: readonly SourceRange[]): void {
    for (const name of unmatched) {
      if (declared.has(name) || NON_ENV_ARGS.has(name)) continue;
      lint.run(UndefinedVar, location, UndefinedVar.format(name, suggestMatch(name, [...env.keys()], true) ?? ""));
    }
  }

  #tracker(d: CheckedStage): StageTracker {
    let t = this.#stages.get(d);
    if (t === undefined) {
      // A stage built on another starts with its WORKDIR state; the once-only trackers start afresh.
      t = { workdirSet: d.base !== undefined && this.#tracker(d.base).workdirSet };
      this.#stages.set(d, t);
    }
    return t;
  }

  // Upstream walks the ARG's entries one by one: each sees the env and declarations of those before it.
  #checkArg(d: CheckedStage, cmd: ArgCommand, stageEnv: ReadonlyMap<string, string>, lint: Linter): void {
    const env = new Map(stageEnv);
    const declared = declaredArgs(d);
    for (const arg of cmd.args) {
      if (isSecretKey(arg.key)) lint.run(SecretsUsedInArgOrEnv, cmd.location, SecretsUsedInArgOrEnv.format("ARG", arg.key));
      let value = this.#o.buildArgs.get(arg.key);
      if (value === undefined && arg.value === undefined) value = this.#o.globalArgs.get(arg.key);
      else if (value === undefined && arg.value !== undefined) {
        let r;
        try {
          r = this.#o.shlex.processWordWithMatches(arg.value, env);
        } catch {
          return; // the converter reports the expansion error
        }
        this.#reportUndefined(declared, r.unmatched, env, lint, cmd.location);
        value = r.result;
      }
      if (value !== undefined && !NON_ENV_ARGS.has(arg.key)) env.set(arg.key, value);
      declared.add(arg.key);
    }
  }

  #checkIgnored(c: CopyCommand | AddCommand, lint: Linter): void {
    if (this.#ignore === undefined || this.#ignore.hasExclusions) return;
    if (c.kind === "copy" && c.from !== "") return;
    const instruction = c.kind === "add" ? "Add" : "Copy";
    for (const raw of c.sources.sourcePaths) {
      if (c.kind === "add" && (isHttpSource(raw) || isGitSource(raw))) continue;
      const src = goClean(raw);
      // The context root is reported only when a pattern excludes everything.
      if ((src === "." || src === "/") && !this.#ignore.patterns.some((p) => p === "*" || p === "**" || p === "**/*")) continue;
      if (this.#ignore.matchesOrParentMatches(src)) lint.run(CopyIgnoredFile, c.location, CopyIgnoredFile.format(instruction, src));
    }
  }

  #checkExpose(c: ExposeCommand, env: ReadonlyMap<string, string>, lint: Linter): void {
    for (const word of c.ports) {
      let ports: string[];
      try {
        ports = this.#o.shlex.processWords(word, env);
      } catch {
        return; // the converter reports the expansion error
      }
      for (const raw of ports) {
        const { ip, hostPort, containerPort } = splitPortSpec(raw);
        const slash = containerPort.indexOf("/");
        const proto = slash < 0 ? "" : containerPort.slice(slash + 1);
        // A spec the converter rejects gets no warning, as upstream.
        if (slash === 0 || containerPort === "" || !["", "tcp", "udp", "sctp"].includes(proto.toLowerCase())) continue;
        if (proto !== proto.toLowerCase()) lint.run(ExposeProtoCasing, c.location, ExposeProtoCasing.format(raw));
        if (ip !== "" || hostPort !== "") lint.run(ExposeInvalidFormat, c.location, ExposeInvalidFormat.format(raw));
      }
    }
  }
}

// Reports the earlier CMD/ENTRYPOINT/HEALTHCHECK of the stage: that is the one that will be ignored.
function usedOnce(t: StageTracker, kind: "cmd" | "entrypoint" | "healthcheck", location: readonly SourceRange[],
  keyword: string, lint: Linter): void {
  const previous = t[kind];
  if (previous !== undefined) lint.run(MultipleInstructionsDisallowed, previous, MultipleInstructionsDisallowed.format(keyword));
  t[kind] = location;
}

/** The ARG names declared in the stage and the stages it is built on. */
function declaredArgs(d: CheckedStage): Set<string> {
  const out = new Set<string>();
  for (let s: CheckedStage | undefined = d; s !== undefined; s = s.base) for (const a of s.buildArgs) out.add(a.key);
  return out;
}

// `[ip:]hostPort:containerPort`; an IPv6 address keeps its colons.
function splitPortSpec(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const parts = raw.split(":");
  const n = parts.length;
  if (n === 1) return { ip: "", hostPort: "", containerPort: parts[0] };
  if (n === 2) return { ip: "", hostPort: parts[0], containerPort: parts[1] };
  return { ip: parts.slice(0, n - 2).join(":"), hostPort: parts[n - 2], containerPort: parts[n - 1] };
}

function isAbsolute(path: string, os: string | undefined): boolean {
  if (os === "windows") return /^[a-zA-Z]:[\\/]/.test(path) || /^[\\/]/.test(path);
  return path.startsWith("/");
}

function isGitSource(src: string): boolean {
  try {
    return parseGitRef(src) !== undefined;
  } catch {
    return true; // a malformed git fragment is still a git source; the converter reports it
  }
}

// Go's path.Clean: no trailing slash, "." for empty.
function goClean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}
