// Instruction flags (`--from=x`, `--link`, repeated `--mount=…`), parsed with upstream's bflag rules:
// flags are declared first, then `parse()` checks the words the parser extracted.

import { GantryError } from "../../../util/errors.js";
import { withSuggestion } from "./suggest.js";

type FlagType = "bool" | "string" | "strings";

/** One declared flag; `value` holds the default until parsed. */
export interface Flag {
  readonly name: string;
  readonly type: FlagType;
  value: string;
  values: string[];
  used: boolean;
}

/** The flags of one instruction. Declare with `addBool`/`addString`/`addStrings`, then `parse()`. */
export class BFlags {
  readonly #args: readonly string[];
  readonly #flags = new Map<string, Flag>();

  constructor(args: readonly string[]) {
    this.#args = args;
  }

  addBool(name: string, def = false): Flag {
    return this.#add(name, "bool", def ? "true" : "false");
  }

  addString(name: string, def = ""): Flag {
    return this.#add(name, "string", def);
  }

  addStrings(name: string): Flag {
    return this.#add(name, "strings", "");
  }

  /** Names of the flags given on the instruction. */
  used(): string[] {
    return [...this.#flags.values()].filter((f) => f.used).map((f) => f.name);
  }

  /** Checks the given words against the declared flags; throws InvalidArgument with upstream's wording. */
  parse(): void {
    for (const arg of this.#args) {
      if (arg === "--") return;
      if (!arg.startsWith("--")) throw invalid(`arg should start with -- : ${arg}`);
      const eq = arg.indexOf("=");
      const flagName = eq < 0 ? arg : arg.slice(0, eq);
      const hasValue = eq >= 0;
      const value = hasValue ? arg.slice(eq + 1) : "";
      const name = flagName.slice(2);
      const flag = this.#flags.get(name);
      if (flag === undefined) {
        throw invalid(withSuggestion(`unknown flag: ${flagName}`, name, [...this.#flags.keys()], true));
      }
      if (flag.used && flag.type !== "strings") throw invalid(`duplicate flag specified: ${flagName}`);
      flag.used = true;
      setValue(flag, flagName, hasValue, value);
    }
  }

  #add(name: string, type: FlagType, value: string): Flag {
    const flag: Flag = { name, type, value, values: [], used: false };
    this.#flags.set(name, flag);
    return flag;
  }
}

function setValue(flag: Flag, flagName: string, hasValue: boolean, value: string): void {
  if (flag.type === "bool") {
    if (hasValue && value === "") throw invalid(`missing a value on flag: ${flagName}`);
    const v = value.toLowerCase();
    if (v !== "true" && v !== "false" && v !== "") {
      throw invalid(`expecting boolean value for flag ${flagName}, not: ${value}`);
    }
    flag.value = v === "false" ? "false" : "true";
    return;
  }
  if (!hasValue) throw invalid(`missing a value on flag: ${flagName}`);
  if (flag.type === "string") flag.value = value;
  else flag.values.push(value);
}

function invalid(message: string): GantryError {
  return new GantryError("InvalidArgument", message);
}
