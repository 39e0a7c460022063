// One parser node → one typed instruction (upstream ParseInstruction). Errors are InvalidArgument with
// upstream's wording; `parseStages` adds the line.

import { GantryError } from "../../../util/errors.js";
import type { Node } from "../parser/node.js";
import type {
  ArgCommand, Command, EnvCommand, ExposeCommand, KeyValuePair, LabelCommand, MaintainerCommand, OnbuildCommand, Stage,
  StopSignalCommand, UserCommand, VolumeCommand, WorkdirCommand,
} from "./commands.js";
import { parseAdd, parseCopy } from "./parse-copy.js";
import { parseRequestFromNode, type ParseRequest } from "./parse-request.js";
import { parseCmd, parseEntrypoint, parseHealthcheck, parseRun, parseShell } from "./parse-run.js";
import { withSuggestion } from "./suggest.js";

const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

type Parser = (req: ParseRequest) => Command | Stage;

const PARSERS: ReadonlyMap<string, Parser> = new Map<string, Parser>([
  ["env", parseEnv],
  ["maintainer", parseMaintainer],
  ["label", parseLabel],
  ["add", parseAdd],
  ["copy", parseCopy],
  ["from", parseFrom],
  ["onbuild", parseOnbuild],
  ["workdir", parseWorkdir],
  ["run", parseRun],
  ["cmd", parseCmd],
  ["healthcheck", parseHealthcheck],
  ["entrypoint", parseEntrypoint],
  ["expose", parseExpose],
  ["user", parseUser],
  ["volume", parseVolume],
  ["stopsignal", parseStopSignal],
  ["arg", parseArg],
  ["shell", parseShell],
]);

/** Converts a node to a command, or to a Stage for FROM. Throws InvalidArgument (no line prefix). */
export function parseInstruction(node: Node): Command | Stage {
  const parser = PARSERS.get(node.value.toLowerCase());
  if (parser === undefined) {
    const names = [...PARSERS.keys()].map((k) => k.toUpperCase());
    throw invalid(withSuggestion(`unknown instruction: ${node.rawKeyword}`, node.rawKeyword, names, false));
  }
  return parser(parseRequestFromNode(node));
}

function parseKvps(args: readonly string[], cmdName: string): KeyValuePair[] {
  if (args.length === 0) throw invalid(`${cmdName} requires at least one argument`);
  if (args.length % 3 !== 0) throw invalid(`Bad input to ${cmdName}, too many arguments`);
  const out: KeyValuePair[] = [];
  for (let j = 0; j < args.length; j += 3) {
    if (args[j].length === 0) throw invalid(`${cmdName} names can not be blank`);
    out.push({ key: args[j], value: args[j + 1], noDelim: args[j + 2] === "" });
  }
  return out;
}

function parseEnv(req: ParseRequest): EnvCommand {
  req.flags.parse();
  return { kind: "env", ...req.base, env: parseKvps(req.args, "ENV") };
}

function parseLabel(req: ParseRequest): LabelCommand {
  req.flags.parse();
  return { kind: "label", ...req.base, labels: parseKvps(req.args, "LABEL") };
}

function parseMaintainer(req: ParseRequest): MaintainerCommand {
  if (req.args.length !== 1) throw exactlyOne("MAINTAINER");
  req.flags.parse();
  return { kind: "maintainer", ...req.base, maintainer: req.args[0] };
}

function parseFrom(req: ParseRequest): Stage {
  let name = "";
  if (req.args.length === 3 && req.args[1].toLowerCase() === "as") {
    name = req.args[2].toLowerCase();
    if (!VALID_STAGE_NAME.test(name)) {
      throw invalid(`invalid name for build stage: "${req.args[2]}", name can't start with a number or contain symbols`);
    }
  } else if (req.args.length !== 1) {
    throw invalid("FROM requires either one or three arguments");
  }
  const platform = req.flags.addString("platform");
  req.flags.parse();
  return {
    kind: "stage", name, baseName: req.args[0], platform: platform.value, sourceCode: req.original.trim(),
    location: req.base.location, commands: [],
  };
}

function parseOnbuild(req: ParseRequest): OnbuildCommand {
  if (req.args.length === 0) throw invalid("ONBUILD requires at least one argument");
  req.flags.parse();
  const trigger = req.args[0].trim().toUpperCase();
  if (trigger === "ONBUILD") throw invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === "MAINTAINER" || trigger === "FROM") throw invalid(`${trigger} isn't allowed as an ONBUILD trigger`);
  let expression = req.original.replace(/^\s*ONBUILD\s*/i, "");
  for (const doc of req.heredocs) expression += `\n${doc.content}${doc.name}`;
  return { kind: "onbuild", ...req.base, expression };
}

function parseWorkdir(req: ParseRequest): WorkdirCommand {
  if (req.args.length !== 1) throw exactlyOne("WORKDIR");
  req.flags.parse();
  return { kind: "workdir", ...req.base, path: req.args[0] };
}

function parseExpose(req: ParseRequest): ExposeCommand {
  if (req.args.length === 0) throw invalid("EXPOSE requires at least one argument");
  req.flags.parse();
  return { kind: "expose", ...req.base, ports: [...req.args].sort() };
}

function parseUser(req: ParseRequest): UserCommand {
  if (req.args.length !== 1) throw exactlyOne("USER");
  req.flags.parse();
  return { kind: "user", ...req.base, user: req.args[0] };
}

function parseVolume(req: ParseRequest): VolumeCommand {
  if (req.args.length === 0) throw invalid("VOLUME requires at least one argument");
  req.flags.parse();
  const volumes = req.args.map((v) => v.trim());
  if (volumes.some((v) => v === "")) throw invalid("VOLUME specified can not be an empty string");
  return { kind: "volume", ...req.base, volumes };
}

function parseStopSignal(req: ParseRequest): StopSignalCommand {
  if (req.args.length !== 1) throw exactlyOne("STOPSIGNAL");
  return { kind: "stopsignal", ...req.base, signal: req.args[0] };
}

function parseArg(req: ParseRequest): ArgCommand {
  if (req.args.length < 1) throw invalid("ARG requires at least one argument");
  const args = req.args.map((arg) => {
    const eq = arg.indexOf("=");
    if (eq < 0) return { key: arg };
    if (eq === 0) throw invalid("ARG names can not be blank");
    return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
  });
  return { kind: "arg", ...req.base, args };
}

function exactlyOne(command: string): GantryError {
  return invalid(`${command} requires exactly one argument`);
}

function invalid(message: string): GantryError {
  return new GantryError("InvalidArgument", message);
}
