import { GantryError } from "../util/errors.js";

export interface FlagSpec {
  /** Flag names with leading dashes, first is canonical: ["--output", "-o"]. */
  names: string[];
  /** "bool" flags take no value; "string" takes one; "list" may repeat. */
  kind: "bool" | "string" | "list";
}

export interface ParsedArgs {
  flags: Map<string, string[]>;
  positionals: string[];
}

/** Parses `--flag value`, `--flag=value` and `-f value` against a spec; unknown flags are errors. */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byName.get(name);
    if (!spec) throw new GantryError("InvalidArgument", `Unknown flag ${name} for "${command}" (see "gantry ${command} --help").`);
    const key = spec.names[0];
    let value: string;
    if (spec.kind === "bool") {
      value = eq > 0 ? arg.slice(eq + 1) : "true";
      if (value !== "true" && value !== "false") {
        throw new GantryError("InvalidArgument", `Flag ${name} takes true or false, not "${value}".`);
      }
    } else if (eq > 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new GantryError("InvalidArgument", `Flag ${name} needs a value.`);
      value = argv[++i];
    }
    const list = flags.get(key) ?? [];
    if (spec.kind !== "list") list.length = 0;
    list.push(value);
    flags.set(key, list);
  }
  return { flags, positionals };
}

export function flagValue(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.at(-1);
}

export function flagBool(args: ParsedArgs, name: string): boolean {
  return flagValue(args, name) === "true";
}

export function flagList(args: ParsedArgs, name: string): string[] {
  return args.flags.get(name) ?? [];
}
