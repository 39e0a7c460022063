// Builds the node for one joined instruction line: keyword, flags, then the per-instruction arguments.

import { createNode, type Node } from "./node.js";
import { lineParserFor } from "./line-parsers.js";
import { splitCommand } from "./split-command.js";

const HEREDOC_KEYWORDS = new Set(["add", "copy", "run"]);

/** Parses one instruction line (continuations already joined). Throws GantryError InvalidArgument. */
export function newNodeFromLine(line: string, escapeToken: string, comments: string[] = []): Node {
  const { keyword, flags, args } = splitCommand(line, escapeToken);
  const value = keyword.toLowerCase();
  const node = createNode({ value, rawKeyword: keyword, original: line, flags, prevComment: comments });
  if (value === "onbuild") {
    // ONBUILD wraps one whole instruction; it is parsed with the same rules.
    if (args !== "") node.children = [newNodeFromLine(args, escapeToken)];
    return node;
  }
  const parsed = lineParserFor(value)(args, escapeToken);
  node.next = parsed.args;
  node.attributes = { json: parsed.json };
  return node;
}

/** True when heredoc markers on this instruction (or on ONBUILD's inner one) are honoured. */
export function canContainHeredoc(node: Node): boolean {
  const target = node.value === "onbuild" && node.children.length > 0 ? node.children[0] : node;
  return HEREDOC_KEYWORDS.has(target.value) && !target.attributes.json;
}
