// Upstream's `Node.Dump()` text, the format of the parser golden files.

import { goQuote } from "../shell/go-quote.js";
import type { Node } from "./node.js";
import { trimUnicodeSpace } from "../shell/unicode-space.js";

/**
 * Prints `node` as upstream's s-expression dump. For the root: one `(instruction …)` per line, no
 * final newline (the golden `result` files are this plus "\n").
 */
export function dumpNode(node: Node): string {
  let out = node.value.toLowerCase();
  if (node.flags.length > 0) out += " [" + node.flags.map(goQuote).join(" ") + "]";
  if (node.value === "") {
    for (const child of node.children) out += "(" + dumpNode(child) + ")\n";
  } else {
    // A nested instruction (ONBUILD) sits where upstream keeps a childful argument node.
    for (const child of node.children) out += " (" + dumpNode(child) + ")";
  }
  for (const arg of node.next) out += " " + goQuote(arg);
  return trimUnicodeSpace(out);
}
