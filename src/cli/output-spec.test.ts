import { test } from "node:test";
import assert from "node:assert/strict";
import { GantryError } from "../util/errors.js";
import { parseOutput } from "./output-spec.js";

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof GantryError && err.code === "InvalidArgument" && pattern.test(err.message));
}

test("type=local needs dest", () => {
  assert.deepEqual(parseOutput("type=local,dest=out", true), { type: "local", attrs: { dest: "out" } });
  invalid(() => parseOutput("type=local", false), /type=local needs dest=<directory>/);
  invalid(() => parseOutput("type=local,dest=", false), /needs dest/);
});

test("tar, oci and docker with no dest go to stdout as dest=-, unless stdout is a terminal", () => {
  for (const type of ["tar", "oci", "docker"]) {
    assert.deepEqual(parseOutput(`type=${type}`, false), { type, attrs: { dest: "-" } });
    assert.deepEqual(parseOutput(`type=${type},dest=-`, false), { type, attrs: { dest: "-" } });
    invalid(() => parseOutput(`type=${type}`, true), new RegExp(`type=${type} with no dest would write a tarball to the terminal`));
    invalid(() => parseOutput(`type=${type},dest=-`, true), /to the terminal/);
    assert.deepEqual(parseOutput(`type=${type},dest=o.tar`, true), { type, attrs: { dest: "o.tar" } });
  }
});

test("oci/docker with tar=false write a directory and need dest", () => {
  assert.deepEqual(parseOutput("type=oci,tar=false,dest=layout", true), { type: "oci", attrs: { tar: "false", dest: "layout" } });
  invalid(() => parseOutput("type=docker,tar=false", false), /type=docker,tar=false needs dest=<directory>/);
});

test("type=registry is the image exporter with push=true", () => {
  assert.deepEqual(parseOutput("type=registry,name=localhost:5000/a:1", true), {
    type: "image",
    attrs: { name: "localhost:5000/a:1", push: "true" },
  });
  assert.deepEqual(parseOutput('type=image,"name=a:1,b:2"', true), { type: "image", attrs: { name: "a:1,b:2" } });
  invalid(() => parseOutput("type=image,name=a,dest=x", false), /image exporter takes no dest/);
});

test("the type is case-insensitive", () => {
  assert.deepEqual(parseOutput("TYPE=Local,dest=d", false), { type: "local", attrs: { dest: "d" } });
});

test("a bare path is a local export; a bare - is a tar on stdout", () => {
  assert.deepEqual(parseOutput("out/dir", true), { type: "local", attrs: { dest: "out/dir" } });
  assert.deepEqual(parseOutput("a,b", true), { type: "local", attrs: { dest: "a,b" } });
  assert.deepEqual(parseOutput("-", false), { type: "tar", attrs: { dest: "-" } });
  invalid(() => parseOutput("-", true), /to the terminal/);
});

test("missing or unknown type, and output= for dest=, are InvalidArgument", () => {
  invalid(() => parseOutput("", false), /type= is required/);
  invalid(() => parseOutput("dest=x", false), /Invalid --output "dest=x": type= is required/);
  invalid(() => parseOutput("type=zip,dest=x", false), /unknown type "zip"/);
  invalid(() => parseOutput("type=local,output=x", false), /did you mean dest=x/);
});
