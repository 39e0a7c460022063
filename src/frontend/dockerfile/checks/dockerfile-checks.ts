// The build checks of one conversion: reads the check options (BUILDKIT_DOCKERFILE_CHECK, else the
// `# check=` directive), and offers the converter one call per phase. Violations go to `warn` at once.

import { GantryError, messageOf, type SourceRange } from "../../../util/errors.js";
import type { Node, Warning } from "../parser/node.js";
import type { ArgCommand, ArgPair, Command, Stage } from "../instructions/commands.js";
import type { ParsedStages } from "../instructions/parse-stages.js";
import type { ShellLex } from "../shell/shell-lex.js";
import { DEFAULT_CHECK_OPTIONS, parseCheckOptions, type CheckOptions } from "./check-options.js";
import { CommandChecks, type CheckedStage } from "./command-checks.js";
import { checkFromInstructions } from "./from-checks.js";
import { checkInstructionCasing, checkParseWarnings, checkStageNames, parseStagesChecked } from "./instruction-checks.js";
import { Linter, type CheckWarnFn } from "./linter.js";

/** The build arg that overrides the `# check=` directive. */
export const CHECK_BUILD_ARG = "BUILDKIT_DOCKERFILE_CHECK";

/** The hooks the converter calls while dispatching a stage. */
export interface DispatchChecks {
  /** Before an instruction is applied: `cmd` as written, `expanded` after expansion, the stage's env. */
  command(d: CheckedStage, cmd: Command, expanded: Command, env: ReadonlyMap<string, string>): void;
  /** After one word of `cmd` was expanded: the variables it found unset. */
  unmatchedVars(d: CheckedStage, cmd: Command, unmatched: ReadonlySet<string>, env: ReadonlyMap<string, string>): void;
}

/** What `createDockerfileChecks` needs. */
export interface DockerfileChecksOptions {
  /** The `# check=` directive's value (first word), if the Dockerfile has one. */
  directive?: string;
  /** The build args; `BUILDKIT_DOCKERFILE_CHECK`, when given, replaces the directive. */
  buildArgs: ReadonlyMap<string, string>;
  /** `.dockerignore` patterns of the build context (CopyIgnoredFile). */
  dockerignore?: readonly string[];
  warn: CheckWarnFn;
}

/** What the stage-level checks read, besides the stages. */
export interface StageCheckInput {
  stages: readonly Stage[];
  metaArgs: readonly ArgCommand[];
  /** The predefined platform args, before build-arg overrides. */
  platformArgs: readonly ArgPair[];
  shlex: ShellLex;
}

/** The checks of one conversion. Call `parseStages`, `checkStages`, the dispatch hooks, then `finish`. */
export class DockerfileChecks implements DispatchChecks {
  readonly #lint: Linter;
  readonly #o: DockerfileChecksOptions;
  #comments = new Map<number, readonly string[]>();
  #commands: CommandChecks | undefined;

  constructor(options: CheckOptions, opts: DockerfileChecksOptions) {
    this.#lint = new Linter(options, opts.warn);
    this.#o = opts;
  }

  /** The options in effect for the whole file. */
  get options(): CheckOptions {
    return this.#lint.options;
  }

  /** Types the instructions (instructions' `parseStages`) and runs the checks of the parsed file. */
  parseStages(parsed: { ast: Node; warnings: readonly Warning[] }): ParsedStages {
    for (const node of parsed.ast.children) this.#comments.set(node.startLine, node.prevComment);
    checkParseWarnings(parsed.warnings, this.#lint);
    return parseStagesChecked(parsed.ast, this.#lint);
  }

  /** Stage names, instruction casing and the FROM lines; prepares the dispatch-time checks. */
  checkStages(input: StageCheckInput): void {
    checkStageNames(input.stages, this.#lint);
    checkInstructionCasing(input.stages, this.#lint);
    const globals = checkFromInstructions({
      ...input, buildArgs: this.#o.buildArgs, lint: this.#lint, stageLint: (st) => this.#lintFor(st.location),
    });
    this.#commands = new CommandChecks({
      shlex: input.shlex, buildArgs: this.#o.buildArgs, globalArgs: globals ?? new Map(),
      dockerignore: this.#o.dockerignore ?? [], lintFor: (location) => this.#lintFor(location),
    });
  }

  command(d: CheckedStage, cmd: Command, expanded: Command, env: ReadonlyMap<string, string>): void {
    this.#commands?.command(d, cmd, expanded, env);
  }

  unmatchedVars(d: CheckedStage, cmd: Command, unmatched: ReadonlySet<string>, env: ReadonlyMap<string, string>): void {
    this.#commands?.unmatchedVars(d, cmd, unmatched, env);
  }

  /** Rule names that fired, each once. */
  firedRules(): string[] {
    return this.#lint.firedRules();
  }

  /** Throws InvalidArgument (`lint violation found for rules: …`) when `error=true` and a rule fired. */
  finish(): void {
    const err = this.#lint.violationError();
    if (err !== undefined) throw err;
  }

  // An instruction's own `# check=` comment applies to the checks of that instruction only.
  #lintFor(location: readonly SourceRange[]): Linter {
    const line = location[0]?.start.line;
    const comments = line === undefined ? undefined : this.#comments.get(line);
    return comments === undefined ? this.#lint : this.#lint.withComments(comments);
  }
}

/**
 * Creates the checks of one conversion. Throws InvalidArgument naming the build arg or the directive
 * when its value does not parse.
 */
export function createDockerfileChecks(opts: DockerfileChecksOptions): DockerfileChecks {
  const fromArg = opts.buildArgs.get(CHECK_BUILD_ARG);
  let options = DEFAULT_CHECK_OPTIONS;
  try {
    if (fromArg !== undefined) options = parseCheckOptions(fromArg);
  } catch (err) {
    throw new GantryError("InvalidArgument", `failed to parse build-arg:${CHECK_BUILD_ARG}: ${messageOf(err)}`, { cause: err });
  }
  try {
    if (fromArg === undefined && opts.directive !== undefined) options = parseCheckOptions(opts.directive);
  } catch (err) {
    throw new GantryError("InvalidArgument", `failed to parse check options: ${messageOf(err)}`, { cause: err });
  }
  return new DockerfileChecks(options, opts);
}
