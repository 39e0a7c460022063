// A parsed Dockerfile → build stages plus the ARGs before the first FROM (upstream instructions.Parse).

import { messageOf } from "../../../util/errors.js";
import { DockerfileParseError } from "../parser/parse-error.js";
import type { Node } from "../parser/node.js";
import type { ArgCommand, Stage } from "./commands.js";
import { parseInstruction } from "./parse-instruction.js";

/** Stages in file order and the global (meta) ARGs. */
export interface ParsedStages {
  stages: Stage[];
  metaArgs: ArgCommand[];
}

/**
 * Types every instruction of the AST root. Throws DockerfileParseError (InvalidArgument) whose message
 * is upstream's `dockerfile parse error on line N: …` and whose lines are the instruction's.
 */
export function parseStages(ast: Node): ParsedStages {
  const stages: Stage[] = [];
  const metaArgs: ArgCommand[] = [];
  for (const node of ast.children) {
    let cmd;
    try {
      cmd = parseInstruction(node);
    } catch (err) {
      throw new DockerfileParseError(`dockerfile parse error on line ${node.startLine}: ${messageOf(err)}`,
        { start: node.startLine, end: node.endLine }, { cause: err });
    }
    if (cmd.kind === "stage") {
      stages.push(cmd);
      continue;
    }
    if (stages.length === 0) {
      if (cmd.kind === "arg") {
        metaArgs.push(cmd);
        continue;
      }
      throw new DockerfileParseError("no build stage in current context", { start: node.startLine, end: node.endLine });
    }
    stages[stages.length - 1].commands.push(cmd);
  }
  return { stages, metaArgs };
}
