// The build check rules (upstream's linter rule set). Names, descriptions, URLs and messages reach users
// and tools unchanged (progress warnings, `frontend.lint` results), so they are spelled as upstream's.

import { goQuote } from "../shell/go-quote.js";

/** What the linter needs to know of a rule. */
export interface RuleInfo {
  /** PascalCase name, as written in `# check=skip=<name>`. */
  readonly name: string;
  /** One-line summary, sent as the warning's detail. */
  readonly description: string;
  /** Documentation page; "" when the rule has none. */
  readonly url: string;
  /** Off unless enabled with `experimental=<name>|all`; `skip` does not apply to it. */
  readonly experimental: boolean;
}

/** A rule and the message of one violation, built by `format`. */
export interface CheckRule<A extends unknown[]> extends RuleInfo {
  format(...args: A): string;
}

const DOCS = "https://docs.docker.com/go/dockerfile/rule/";

function defineRule<A extends unknown[]>(name: string, description: string, format: (...args: A) => string,
  opts: { url?: string; experimental?: boolean } = {}): CheckRule<A> {
  return { name, description, url: opts.url ?? DOCS + kebabCase(name) + "/", experimental: opts.experimental === true, format };
}

/** `JSONArgsRecommended` → `json-args-recommended`: a run of capitals is one word. */
export function kebabCase(name: string): string {
  return (name.match(/[A-Z]+(?![a-z])|[A-Z][a-z0-9]*/g) ?? [name]).map((w) => w.toLowerCase()).join("-");
}

function didYouMean(suggestion: string, prefix = ""): string {
  return suggestion === "" ? "" : ` (did you mean ${prefix}${suggestion}?)`;
}

export const StageNameCasing = defineRule("StageNameCasing", "Stage names should be lowercase",
  (stage: string) => `Stage name '${stage}' should be lowercase`);

export const FromAsCasing = defineRule("FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword",
  (from: string, as: string) => `'${as}' and '${from}' keywords' casing do not match`);

export const NoEmptyContinuation = defineRule("NoEmptyContinuation",
  "Empty continuation lines will become errors in a future release", () => "Empty continuation line");

export const ConsistentInstructionCasing = defineRule("ConsistentInstructionCasing",
  "All commands within the Dockerfile should use the same casing (either upper or lower)",
  (command: string, casing: string) => `Command '${command}' should match the case of the command majority (${casing})`);

export const DuplicateStageName = defineRule("DuplicateStageName", "Stage names should be unique",
  (stage: string) => `Duplicate stage name ${goQuote(stage)}, stage names should be unique`);

export const ReservedStageName = defineRule("ReservedStageName", "Reserved words should not be used as stage names",
  (stage: string) => `Stage name should not use the same name as reserved stage ${goQuote(stage)}`);

export const JSONArgsRecommended = defineRule("JSONArgsRecommended",
  "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
  (instruction: string) => `JSON arguments recommended for ${instruction} to prevent unintended behavior related to OS signals`);

export const MaintainerDeprecated = defineRule("MaintainerDeprecated",
  "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
  () => "Maintainer instruction is deprecated in favor of using label");

export const UndefinedArgInFrom = defineRule("UndefinedArgInFrom", "FROM command must use declared ARGs",
  (arg: string, suggestion: string) => `FROM argument '${arg}' is not declared${didYouMean(suggestion)}`);

export const WorkdirRelativePath = defineRule("WorkdirRelativePath",
  "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
  (workdir: string) => `Relative workdir ${goQuote(workdir)} can have unexpected results if the base image changes`);

export const UndefinedVar = defineRule("UndefinedVar", "Variables should be defined before their use",
  (name: string, suggestion: string) => `Usage of undefined variable '$${name}'${didYouMean(suggestion, "$")}`);

export const MultipleInstructionsDisallowed = defineRule("MultipleInstructionsDisallowed",
  "Multiple instructions of the same type should not be used in the same stage",
  (instruction: string) => `Multiple ${instruction} instructions should not be used in the same stage because only the last one will be used`);

export const LegacyKeyValueFormat = defineRule("LegacyKeyValueFormat",
  "Legacy key/value format with whitespace separator should not be used",
  (instruction: string) => `"${instruction} key=value" should be used instead of legacy "${instruction} key value" format`);

export const InvalidBaseImagePlatform = defineRule("InvalidBaseImagePlatform",
  "Base image platform does not match expected target platform",
  (image: string, expected: string, actual: string) =>
    `Base image ${image} was pulled with platform ${goQuote(actual)}, expected ${goQuote(expected)} for current build`,
  { url: "" });

export const RedundantTargetPlatform = defineRule("RedundantTargetPlatform",
  "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
  (value: string) => `Setting platform to predefined ${value} in FROM is redundant as this is the default behavior`);

export const SecretsUsedInArgOrEnv = defineRule("SecretsUsedInArgOrEnv",
  "Sensitive data should not be used in the ARG or ENV commands",
  (instruction: string, key: string) => `Do not use ARG or ENV instructions for sensitive data (${instruction} ${goQuote(key)})`);

export const InvalidDefaultArgInFrom = defineRule("InvalidDefaultArgInFrom",
  "Default value for global ARG results in an empty or invalid base image name",
  (baseName: string) => `Default value for ARG ${baseName} results in empty or invalid base image name`);

export const FromPlatformFlagConstDisallowed = defineRule("FromPlatformFlagConstDisallowed",
  "FROM --platform flag should not use a constant value",
  (platform: string) => `FROM --platform flag should not use constant value ${goQuote(platform)}`);

export const CopyIgnoredFile = defineRule("CopyIgnoredFile", "Attempting to Copy file that is excluded by .dockerignore",
  (instruction: string, file: string) => `Attempting to ${instruction} file ${goQuote(file)} that is excluded by .dockerignore`);

export const InvalidDefinitionDescription = defineRule("InvalidDefinitionDescription",
  "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not " +
  "intended to be a description comment, add an empty line or comment between the instruction and the comment.",
  (instruction: string, name: string) => `Comment for ${instruction} should follow the format: \`# ${name} <description>\``,
  { experimental: true });

export const ExposeProtoCasing = defineRule("ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase",
  (port: string) => `Defined protocol '${port}' in EXPOSE instruction should be lowercase`);

export const ExposeInvalidFormat = defineRule("ExposeInvalidFormat",
  "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
  (port: string) => `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`);

/** Every rule, in upstream's order. */
export const ALL_RULES: readonly RuleInfo[] = [
  StageNameCasing, FromAsCasing, NoEmptyContinuation, ConsistentInstructionCasing, DuplicateStageName,
  ReservedStageName, JSONArgsRecommended, MaintainerDeprecated, UndefinedArgInFrom, WorkdirRelativePath, UndefinedVar,
  MultipleInstructionsDisallowed, LegacyKeyValueFormat, InvalidBaseImagePlatform, RedundantTargetPlatform,
  SecretsUsedInArgOrEnv, InvalidDefaultArgInFrom, FromPlatformFlagConstDisallowed, CopyIgnoredFile,
  InvalidDefinitionDescription, ExposeProtoCasing, ExposeInvalidFormat,
];
