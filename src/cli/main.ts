#!/usr/bin/env node
// `gantry`: buildctl's commands and flags. With no --addr (and no BUILDKIT_HOST) it builds in-process.
import { GantryError, messageOf } from "../util/errors.js";
import type { Client } from "../client/client.js";

const USAGE = `Usage: gantry [--addr unix://…|tcp://…] [--tlscacert F --tlscert F --tlskey F] [--root DIR] COMMAND [flags]

Commands:
  build          build from LLB on stdin or with a frontend (--frontend dockerfile.v0)
  du             show disk usage of the build cache
  prune          remove build cache
  debug          dump-llb (LLB on stdin), workers, info
`;

interface GlobalOptions {
  addr?: string;
  root?: string;
  debug: boolean;
  tls: { ca?: string; cert?: string; key?: string; serverName?: string };
}

const TLS_FLAGS: Record<string, "ca" | "cert" | "key" | "serverName"> = {
  "--tlscacert": "ca", "--tlscert": "cert", "--tlskey": "key", "--tlsservername": "serverName",
};

function splitGlobal(argv: string[]): { global: GlobalOptions; rest: string[] } {
  const global: GlobalOptions = { debug: !!process.env.GANTRY_DEBUG, tls: {} };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    if (name === "--addr" || name === "--root" || name in TLS_FLAGS) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new GantryError("InvalidArgument", `Flag ${name} needs a value.`);
      if (name === "--addr") global.addr = v;
      else if (name === "--root") global.root = v;
      else global.tls[TLS_FLAGS[name]] = v;
    } else if (a === "--debug") global.debug = true;
    else break;
  }
  return { global, rest: argv.slice(i) };
}

async function main(argv: string[]): Promise<number> {
  const { global, rest } = splitGlobal(argv);
  const [command, ...args] = rest;
  // The command modules (and the client transports behind connect) load only when a command runs:
  // `--version` and `--help` then start as fast as node itself. In the bundle, ./commands.js is the one
  // CommonJS file that scripts/bundle.mjs code-caches.
  const modules = async (): Promise<typeof import("./commands.js").commandModules> =>
    (await import("./commands.js")).commandModules;
  const client = async (): Promise<Client> => {
    const { connect } = await (await modules()).connect();
    return connect({ addr: global.addr, root: global.root, tls: global.tls });
  };
  switch (command) {
    case "build":
    case "b":
      return (await (await modules()).build()).buildCommand(args, client);
    case "du":
      return (await (await modules()).disk()).duCommand(args, client);
    case "prune":
      return (await (await modules()).disk()).pruneCommand(args, client);
    case "debug":
      return (await (await modules()).debug()).debugCommand(args, client);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    case "--version":
      process.stdout.write("gantry 0.1.0\n");
      return 0;
    default:
      throw new GantryError("InvalidArgument", `Unknown command "${command}".\n\n${USAGE}`);
  }
}

function report(err: unknown): void {
  const debug = !!process.env.GANTRY_DEBUG || process.argv.includes("--debug");
  process.stderr.write(`error: ${messageOf(err)}\n`);
  // Read the hint by shape, not with instanceof: errors from the commands come from the bundle's own copy
  // of util/errors (scripts/bundle.mjs), a different GantryError class from the one this module imports.
  const hint = err instanceof Error ? (err as { hint?: unknown }).hint : undefined;
  if (typeof hint === "string" && hint !== "") process.stderr.write(`${hint}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}

// File copies and hashing fan out over libuv's pool; its default of 4 threads starves them. This must run
// before the first pooled call, which happens only once main() starts.
process.env.UV_THREADPOOL_SIZE ??= "16";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    report(err);
    process.exitCode = 1;
  },
);
