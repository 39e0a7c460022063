import { test } from "node:test";
import assert from "node:assert/strict";
import { GantryError } from "../util/errors.js";
import { flagBool, flagList, flagValue, parseArgs, type FlagSpec } from "./args.js";

const SPECS: FlagSpec[] = [
  { names: ["--output", "-o"], kind: "list" },
  { names: ["--progress"], kind: "string" },
  { names: ["--no-cache"], kind: "bool" },
];

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof GantryError && err.code === "InvalidArgument" && pattern.test(err.message));
}

test("accepts --flag value, --flag=value and short aliases under the canonical name", () => {
  const a = parseArgs(["--progress", "plain", "-o", "type=local,dest=a", "--output=type=tar,dest=b.tar", "-o=x"], SPECS, "build");
  assert.equal(flagValue(a, "--progress"), "plain");
  assert.deepEqual(flagList(a, "--output"), ["type=local,dest=a", "type=tar,dest=b.tar", "x"]);
  assert.equal(a.flags.has("-o"), false);
  assert.deepEqual(a.positionals, []);
});

test("a repeated string flag keeps the last value; a list keeps all in order", () => {
  const a = parseArgs(["--progress", "tty", "--progress=plain", "-o", "1", "--output", "2"], SPECS, "build");
  assert.deepEqual(a.flags.get("--progress"), ["plain"]);
  assert.equal(flagValue(a, "--progress"), "plain");
  assert.deepEqual(flagList(a, "--output"), ["1", "2"]);
  assert.deepEqual(flagList(a, "--missing"), []);
  assert.equal(flagValue(a, "--missing"), undefined);
});

test("bool flags take no separate value but accept =true/=false", () => {
  assert.equal(flagBool(parseArgs(["--no-cache"], SPECS, "build"), "--no-cache"), true);
  assert.equal(flagBool(parseArgs(["--no-cache=false"], SPECS, "build"), "--no-cache"), false);
  assert.equal(flagBool(parseArgs([], SPECS, "build"), "--no-cache"), false);
  const a = parseArgs(["--no-cache", "ctx"], SPECS, "build");
  assert.equal(flagBool(a, "--no-cache"), true);
  assert.deepEqual(a.positionals, ["ctx"]);
  invalid(() => parseArgs(["--no-cache=yes"], SPECS, "build"), /--no-cache takes true or false/);
});

test("positionals, a lone dash and everything after -- are kept as given", () => {
  const a = parseArgs(["one", "-", "--progress", "plain", "two", "--", "--output", "-x"], SPECS, "build");
  assert.deepEqual(a.positionals, ["one", "-", "two", "--output", "-x"]);
  assert.deepEqual(flagList(a, "--output"), []);
});

test("a value may itself start with a dash or be empty", () => {
  const a = parseArgs(["--progress", "-", "-o="], SPECS, "build");
  assert.equal(flagValue(a, "--progress"), "-");
  assert.deepEqual(flagList(a, "--output"), [""]);
});

test("an unknown flag is an InvalidArgument naming the flag and the command", () => {
  invalid(() => parseArgs(["--nope"], SPECS, "build"), /Unknown flag --nope for "build"/);
  invalid(() => parseArgs(["--nope=1"], SPECS, "du"), /Unknown flag --nope for "du"/);
  invalid(() => parseArgs(["-x"], SPECS, "build"), /Unknown flag -x/);
});

test("a flag at the end with no value is an InvalidArgument", () => {
  invalid(() => parseArgs(["--progress"], SPECS, "build"), /Flag --progress needs a value/);
  invalid(() => parseArgs(["-o"], SPECS, "build"), /Flag -o needs a value/);
});
