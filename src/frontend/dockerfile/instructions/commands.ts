// Typed Dockerfile instructions (upstream instructions/commands.go): what each instruction says after
// flag parsing, before variable expansion. The converter expands words and dispatches on `kind`.

import type { SourceRange } from "../../../util/errors.js";
import type { RunMount } from "./run-mount.js";

/** What every instruction carries: its keyword, source text and where it is. */
export interface CommandBase {
  /** The keyword, lower-cased (`run`, `copy`…). */
  name: string;
  /** The instruction line as written (continuations joined), trimmed. */
  code: string;
  /** One range per line the instruction covers. */
  location: SourceRange[];
}

/** `KEY=value` of ENV and LABEL; `noDelim` marks the legacy `ENV key value` form. */
export interface KeyValuePair {
  key: string;
  value: string;
  noDelim: boolean;
}

/** An ARG entry: a name with an optional default. */
export interface ArgPair {
  key: string;
  value?: string;
}

/** A heredoc given as a COPY/ADD source. */
export interface SourceContent {
  path: string;
  data: string;
  /** False when the heredoc delimiter was quoted: no variable expansion. */
  expand: boolean;
}

/** Sources and destination of COPY/ADD. */
export interface SourcesAndDest {
  destPath: string;
  sourcePaths: string[];
  sourceContents: SourceContent[];
}

/** A heredoc attached to RUN/CMD/ENTRYPOINT. */
export interface ShellInlineFile {
  name: string;
  data: string;
  chomp: boolean;
}

/** RUN, CMD and ENTRYPOINT: shell form (`prependShell`) or exec form. */
export interface ShellDependentCmdLine {
  cmdLine: string[];
  files: ShellInlineFile[];
  prependShell: boolean;
}

/** HEALTHCHECK settings; durations in nanoseconds, 0 = inherit the default. */
export interface HealthConfig {
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface EnvCommand extends CommandBase { kind: "env"; env: KeyValuePair[] }
export interface LabelCommand extends CommandBase { kind: "label"; labels: KeyValuePair[] }
export interface MaintainerCommand extends CommandBase { kind: "maintainer"; maintainer: string }
export interface AddCommand extends CommandBase {
  kind: "add";
  sources: SourcesAndDest;
  chown: string;
  chmod: string;
  link: boolean;
  excludePatterns: string[];
  keepGitDir?: boolean;
  checksum: string;
  unpack?: boolean;
}
export interface CopyCommand extends CommandBase {
  kind: "copy";
  sources: SourcesAndDest;
  from: string;
  chown: string;
  chmod: string;
  link: boolean;
  excludePatterns: string[];
  parents: boolean;
}
export interface OnbuildCommand extends CommandBase { kind: "onbuild"; expression: string }
export interface WorkdirCommand extends CommandBase { kind: "workdir"; path: string }
export interface RunCommand extends CommandBase, ShellDependentCmdLine {
  kind: "run";
  /** The `--mount` values as written (expanded at dispatch). */
  mountSpecs: string[];
  /** The mounts parsed without expansion: enough to know which stages they read. */
  mounts: RunMount[];
  network: "default" | "none" | "host";
  security: "sandbox" | "insecure";
  flagsUsed: string[];
}
export interface CmdCommand extends CommandBase, ShellDependentCmdLine { kind: "cmd" }
export interface EntrypointCommand extends CommandBase, ShellDependentCmdLine { kind: "entrypoint" }
export interface HealthcheckCommand extends CommandBase { kind: "healthcheck"; health: HealthConfig }
export interface ExposeCommand extends CommandBase { kind: "expose"; ports: string[] }
export interface UserCommand extends CommandBase { kind: "user"; user: string }
export interface VolumeCommand extends CommandBase { kind: "volume"; volumes: string[] }
export interface StopSignalCommand extends CommandBase { kind: "stopsignal"; signal: string }
export interface ArgCommand extends CommandBase { kind: "arg"; args: ArgPair[] }
export interface ShellCommand extends CommandBase { kind: "shell"; shell: string[] }

/** Any instruction other than FROM. */
export type Command =
  | EnvCommand | LabelCommand | MaintainerCommand | AddCommand | CopyCommand | OnbuildCommand | WorkdirCommand
  | RunCommand | CmdCommand | EntrypointCommand | HealthcheckCommand | ExposeCommand | UserCommand
  | VolumeCommand | StopSignalCommand | ArgCommand | ShellCommand;

/** A build stage: a FROM and the instructions up to the next FROM. */
export interface Stage {
  kind: "stage";
  /** The `AS` name, lower-cased; "" when unnamed. */
  name: string;
  /** The image or stage after FROM, before expansion. */
  baseName: string;
  /** The `--platform` value, before expansion; "" when not given. */
  platform: string;
  /** The FROM line, trimmed. */
  sourceCode: string;
  location: SourceRange[];
  commands: Command[];
}
