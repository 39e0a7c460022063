// Checks that need only the parsed Dockerfile: empty continuation lines, MAINTAINER, FROM/AS casing,
// definition comments, stage names and instruction casing.

import type { Node, Warning } from "../parser/node.js";
import { nodeLocation } from "../parser/node.js";
import { DockerfileParseError } from "../parser/parse-error.js";
import type { Stage } from "../instructions/commands.js";
import { parseStages, type ParsedStages } from "../instructions/parse-stages.js";
import {
  ConsistentInstructionCasing, DuplicateStageName, FromAsCasing, InvalidDefinitionDescription, MaintainerDeprecated,
  NoEmptyContinuation, ReservedStageName, StageNameCasing,
} from "./check-rules.js";
import type { Linter } from "./linter.js";

const RESERVED_STAGE_NAMES = new Set(["context", "scratch"]);

/** Reports the parser's empty-continuation warnings as NoEmptyContinuation. */
export function checkParseWarnings(warnings: readonly Warning[], lint: Linter): void {
  for (const w of warnings) {
    if (w.url === NoEmptyContinuation.url) lint.run(NoEmptyContinuation, [w.location], NoEmptyContinuation.format());
  }
}

/**
 * `parseStages` plus the per-instruction checks. As upstream checks while it types instructions, a
 * parse error still reports the violations of the instructions before it (and the casing checks of the
 * failing one) before it is rethrown.
 */
export function parseStagesChecked(ast: Node, lint: Linter): ParsedStages {
  let parsed: ParsedStages;
  try {
    parsed = parseStages(ast);
  } catch (err) {
    if (err instanceof DockerfileParseError) {
      for (const node of ast.children) {
        if (node.startLine > err.line) break;
        checkInstructionNode(node, lint, node.startLine === err.line);
      }
    }
    throw err;
  }
  for (const node of ast.children) checkInstructionNode(node, lint, false);
  return parsed;
}

/** The checks of one instruction; `failed` leaves out those upstream runs only after typing it. */
function checkInstructionNode(node: Node, parent: Linter, failed: boolean): void {
  const lint = parent.withComments(node.prevComment);
  const location = nodeLocation(node);
  if (node.value === "maintainer") {
    lint.run(MaintainerDeprecated, location, MaintainerDeprecated.format());
  } else if (node.value === "from") {
    const args = node.next;
    if (args.length === 3 && args[2] !== args[2].toLowerCase()) lint.run(StageNameCasing, location, StageNameCasing.format(args[2]));
    if (!fromMatchesAsCase(node.rawKeyword, args)) lint.run(FromAsCasing, location, FromAsCasing.format(node.rawKeyword, args[1]));
    if (!failed && args.length === 3) checkDescription("FROM", [args[2].toLowerCase()], node, lint);
  } else if (node.value === "arg" && !failed) {
    checkDescription("ARG", node.next.map((a) => (a.includes("=") ? a.slice(0, a.indexOf("=")) : a)), node, lint);
  }
}

// Only a self-consistent FROM is compared: mixed-case keywords are ConsistentInstructionCasing's job.
function fromMatchesAsCase(from: string, args: readonly string[]): boolean {
  if (args.length < 3) return true;
  if (from === from.toLowerCase()) return args[1] === args[1].toLowerCase();
  if (from === from.toUpperCase()) return args[1] === args[1].toUpperCase();
  return true;
}

// The last comment line before a stage or ARG should start with the name it describes.
function checkDescription(instruction: string, names: readonly string[], node: Node, lint: Linter): void {
  if (node.prevComment.length === 0 || names.length === 0) return;
  const first = node.prevComment[node.prevComment.length - 1].split(" ")[0];
  if (names.includes(first)) return;
  const example = names.length > 1 ? "<arg_key>" : names[0];
  lint.run(InvalidDefinitionDescription, nodeLocation(node), InvalidDefinitionDescription.format(instruction, example));
}

/** ReservedStageName and DuplicateStageName over all stages. */
export function checkStageNames(stages: readonly Stage[], lint: Linter): void {
  const seen = new Set<string>();
  for (const st of stages) {
    if (st.name === "") continue;
    if (RESERVED_STAGE_NAMES.has(st.name)) lint.run(ReservedStageName, st.location, ReservedStageName.format(st.name));
    if (seen.has(st.name)) lint.run(DuplicateStageName, st.location, DuplicateStageName.format(st.name));
    seen.add(st.name);
  }
}

/**
 * ConsistentInstructionCasing: each keyword (FROM included, global ARGs not) must be all upper or all
 * lower case, and match the majority of the self-consistent ones (ties go to upper case).
 */
export function checkInstructionCasing(stages: readonly Stage[], lint: Linter): void {
  const keywords: { word: string; location: Stage["location"] }[] = [];
  for (const st of stages) {
    keywords.push({ word: keywordOf(st.sourceCode), location: st.location });
    for (const c of st.commands) keywords.push({ word: keywordOf(c.code), location: c.location });
  }
  let lower = 0;
  let upper = 0;
  for (const { word } of keywords) {
    if (word === word.toLowerCase()) lower++;
    else if (word === word.toUpperCase()) upper++;
  }
  const majorityLower = lower > upper;
  for (const { word, location } of keywords) {
    if (majorityLower && word !== word.toLowerCase()) {
      lint.run(ConsistentInstructionCasing, location, ConsistentInstructionCasing.format(word, "lowercase"));
    } else if (!majorityLower && word !== word.toUpperCase()) {
      lint.run(ConsistentInstructionCasing, location, ConsistentInstructionCasing.format(word, "uppercase"));
    }
  }
}

/** The instruction keyword as written: the first word of its source line. */
export function keywordOf(code: string): string {
  return code.trimStart().split(/\s/, 1)[0] ?? "";
}
