// COPY and ADD: flags, then sources (paths or heredocs) and the destination.

import { GantryError } from "../../../util/errors.js";
import { chompHeredocContent, parseHeredoc } from "../parser/heredoc.js";
import type { AddCommand, CopyCommand, SourceContent, SourcesAndDest } from "./commands.js";
import type { ParseRequest } from "./parse-request.js";

/** Parses ADD. Throws InvalidArgument for a missing destination or a bad flag. */
export function parseAdd(req: ParseRequest): AddCommand {
  if (req.args.length < 2) throw noDestination("ADD");
  const chown = req.flags.addString("chown");
  const chmod = req.flags.addString("chmod");
  const link = req.flags.addBool("link");
  const keepGitDir = req.flags.addBool("keep-git-dir");
  const checksum = req.flags.addString("checksum");
  const unpack = req.flags.addBool("unpack");
  const exclude = req.flags.addStrings("exclude");
  req.flags.parse();
  return {
    kind: "add",
    ...req.base,
    sources: parseSourcesAndDest(req, "ADD"),
    chown: chown.value,
    chmod: chmod.value,
    link: link.value === "true",
    excludePatterns: exclude.values,
    ...(keepGitDir.used ? { keepGitDir: keepGitDir.value === "true" } : {}),
    checksum: checksum.value,
    ...(unpack.used ? { unpack: unpack.value === "true" } : {}),
  };
}

/** Parses COPY. Throws InvalidArgument for a missing destination or a bad flag. */
export function parseCopy(req: ParseRequest): CopyCommand {
  if (req.args.length < 2) throw noDestination("COPY");
  const chown = req.flags.addString("chown");
  const from = req.flags.addString("from");
  const chmod = req.flags.addString("chmod");
  const link = req.flags.addBool("link");
  const exclude = req.flags.addStrings("exclude");
  const parents = req.flags.addBool("parents");
  req.flags.parse();
  return {
    kind: "copy",
    ...req.base,
    sources: parseSourcesAndDest(req, "COPY"),
    from: from.value,
    chown: chown.value,
    chmod: chmod.value,
    link: link.value === "true",
    excludePatterns: exclude.values,
    parents: parents.value === "true",
  };
}

function parseSourcesAndDest(req: ParseRequest, command: string): SourcesAndDest {
  const srcs = req.args.slice(0, -1);
  const destPath = req.args[req.args.length - 1];
  if (parseHeredoc(destPath) !== undefined) {
    throw new GantryError("InvalidArgument", `${command} cannot accept a heredoc as a destination`);
  }
  const bodies = new Map(req.heredocs.map((h) => [h.name, h]));
  const sourcePaths: string[] = [];
  const sourceContents: SourceContent[] = [];
  for (const src of srcs) {
    const doc = parseHeredoc(src);
    if (doc === undefined) {
      sourcePaths.push(src);
      continue;
    }
    let data = bodies.get(doc.name)?.content ?? "";
    if (doc.chomp) data = chompHeredocContent(data);
    sourceContents.push({ path: doc.name, data, expand: doc.expand });
  }
  return { destPath, sourcePaths, sourceContents };
}

function noDestination(command: string): GantryError {
  return new GantryError("InvalidArgument",
    `${command} requires at least two arguments, but only one was provided. Destination could not be determined`);
}
