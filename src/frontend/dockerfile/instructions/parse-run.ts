// Instructions whose arguments are a command line: RUN (with --mount/--network/--security), CMD,
// ENTRYPOINT, SHELL and HEALTHCHECK.

import { GantryError } from "../../../util/errors.js";
import type {
  CmdCommand, EntrypointCommand, HealthcheckCommand, HealthConfig, RunCommand, ShellCommand, ShellDependentCmdLine,
} from "./commands.js";
import type { Flag } from "./bflags.js";
import { parseGoDuration } from "./go-duration.js";
import type { ParseRequest } from "./parse-request.js";
import { parseRunMount } from "./run-mount.js";

const NETWORKS = ["default", "none", "host"] as const;
const SECURITY = ["sandbox", "insecure"] as const;

/** Exec form keeps the words; shell form joins them into one string (upstream handleJSONArgs). */
export function handleJSONArgs(args: readonly string[], json: boolean): string[] {
  if (args.length === 0) return [];
  return json ? [...args] : [args.join(" ")];
}

function shellDependent(req: ParseRequest): ShellDependentCmdLine {
  return {
    cmdLine: handleJSONArgs(req.args, req.json),
    files: req.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp })),
    prependShell: !req.json,
  };
}

/** Parses RUN and its flags. Throws InvalidArgument for a bad flag, mount, network or security mode. */
export function parseRun(req: ParseRequest): RunCommand {
  const mount = req.flags.addStrings("mount");
  const network = req.flags.addString("network", "default");
  const security = req.flags.addString("security", "sandbox");
  req.flags.parse();
  const net = NETWORKS.find((n) => n === network.value);
  if (net === undefined) throw invalid(`invalid network mode "${network.value}"`);
  const sec = SECURITY.find((s) => s === security.value);
  if (sec === undefined) throw invalid(`security "${security.value}" is not valid`);
  return {
    kind: "run",
    ...req.base,
    ...shellDependent(req),
    mountSpecs: mount.values,
    mounts: mount.values.map((v) => parseRunMount(v)),
    network: net,
    security: sec,
    flagsUsed: req.flags.used(),
  };
}

export function parseCmd(req: ParseRequest): CmdCommand {
  req.flags.parse();
  return { kind: "cmd", ...req.base, ...shellDependent(req) };
}

export function parseEntrypoint(req: ParseRequest): EntrypointCommand {
  req.flags.parse();
  return { kind: "entrypoint", ...req.base, ...shellDependent(req) };
}

/** SHELL takes only the JSON form. */
export function parseShell(req: ParseRequest): ShellCommand {
  req.flags.parse();
  const shell = handleJSONArgs(req.args, req.json);
  if (shell.length === 0) throw invalid("SHELL requires at least one argument");
  if (!req.json) throw invalid("SHELL requires the arguments to be in JSON form");
  return { kind: "shell", ...req.base, shell };
}

/** Parses `HEALTHCHECK NONE` or `HEALTHCHECK [flags] CMD …`. */
export function parseHealthcheck(req: ParseRequest): HealthcheckCommand {
  if (req.args.length === 0) throw invalid("HEALTHCHECK requires at least one argument");
  let type = req.args[0].toUpperCase();
  const args = req.args.slice(1);
  const health: HealthConfig = { test: [], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  if (type === "NONE") {
    if (args.length !== 0) throw invalid("HEALTHCHECK NONE takes no arguments");
    health.test = [type];
    return { kind: "healthcheck", ...req.base, health };
  }
  const interval = req.flags.addString("interval");
  const timeout = req.flags.addString("timeout");
  const startPeriod = req.flags.addString("start-period");
  const startInterval = req.flags.addString("start-interval");
  const retries = req.flags.addString("retries");
  req.flags.parse();
  if (type !== "CMD") throw invalid(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const cmd = handleJSONArgs(args, req.json);
  if (cmd.length === 0) throw invalid("Missing command after HEALTHCHECK CMD");
  if (!req.json) type = "CMD-SHELL";
  health.test = [type, ...cmd];
  health.interval = parseInterval(interval);
  health.timeout = parseInterval(timeout);
  health.startPeriod = parseInterval(startPeriod);
  health.startInterval = parseInterval(startInterval);
  health.retries = parseRetries(retries.value);
  return { kind: "healthcheck", ...req.base, health };
}

function parseInterval(flag: Flag): number {
  if (flag.value === "") return 0;
  const d = parseGoDuration(flag.value);
  if (d === 0) return 0;
  if (d < 1e6) throw invalid(`Interval "${flag.name}" cannot be less than 1ms`);
  return d;
}

function parseRetries(value: string): number {
  if (value === "") return 0;
  if (!/^[+-]?\d+$/.test(value) || Math.abs(Number(value)) > 0x7fffffff) {
    throw invalid(`strconv.ParseInt: parsing "${value}": invalid syntax`);
  }
  const n = Number(value);
  if (n < 0) throw invalid(`--retries cannot be negative (${n})`);
  return n;
}

function invalid(message: string): GantryError {
  return new GantryError("InvalidArgument", message);
}
