// What each instruction parser gets from a parser node: its words, flags and heredocs.

import type { Heredoc, Node } from "../parser/node.js";
import { nodeLocation } from "../parser/node.js";
import { BFlags } from "./bflags.js";
import type { CommandBase } from "./commands.js";

/** The input of one instruction parser (upstream's parseRequest). */
export interface ParseRequest {
  /** The keyword, lower-cased. */
  command: string;
  args: string[];
  heredocs: Heredoc[];
  json: boolean;
  original: string;
  flags: BFlags;
  base: CommandBase;
}

/** Builds the request for `node`; ONBUILD's nested instruction becomes its first words, as upstream. */
export function parseRequestFromNode(node: Node): ParseRequest {
  const args = node.value === "onbuild" && node.children.length > 0
    ? [node.children[0].value, ...node.children[0].next]
    : [...node.next];
  return {
    command: node.value,
    args,
    heredocs: node.heredocs,
    json: node.attributes.json,
    original: node.original,
    flags: new BFlags(node.flags),
    base: { name: node.value, code: node.original.trim(), location: nodeLocation(node) },
  };
}
