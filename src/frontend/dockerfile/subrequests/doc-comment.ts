// Doc comments: a comment line just above a FROM or ARG that starts with the stage or arg name documents
// it (`# build compiles the binary` above `FROM … AS build` describes stage build as "compiles the binary").

import type { Node } from "../parser/node.js";

/** The rest of the first comment that starts with `name` and a space; "" when none does or name is "". */
export function docComment(comments: readonly string[], name: string): string {
  if (name === "") return "";
  for (const line of comments) {
    if (line.startsWith(`${name} `)) return line.slice(name.length + 1);
  }
  return "";
}

/** The comments above each instruction, by the instruction's first line. */
export function commentsByLine(ast: Node): Map<number, readonly string[]> {
  return new Map(ast.children.map((n) => [n.startLine, n.prevComment]));
}
