import { test } from "node:test";
import assert from "node:assert/strict";
import { GantryError } from "../util/errors.js";
import { parseCsvAttrs } from "./csv-attrs.js";

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof GantryError && err.code === "InvalidArgument" && pattern.test(err.message));
}

test("splits key=value fields on commas; keys are lowercased, values kept verbatim", () => {
  assert.deepEqual(parseCsvAttrs("type=image,Name=Foo/Bar:1,push=true", "--output"), {
    type: "image",
    name: "Foo/Bar:1",
    push: "true",
  });
});

test("only the first = separates key from value", () => {
  assert.deepEqual(parseCsvAttrs("type=local,dest=a=b", "--output"), { type: "local", dest: "a=b" });
  assert.deepEqual(parseCsvAttrs("opt=", "--x"), { opt: "" });
});

test("a quoted field may hold commas", () => {
  assert.deepEqual(parseCsvAttrs('type=image,"name=a,b",push=true', "--output"), {
    type: "image",
    name: "a,b",
    push: "true",
  });
  // buildctl's CSV reader rejects a quote inside a field; gantry accepts it as the obvious meaning.
  assert.deepEqual(parseCsvAttrs('type=image,name="a,b"', "--output"), { type: "image", name: "a,b" });
});

test("a doubled quote inside quotes is a literal quote", () => {
  assert.deepEqual(parseCsvAttrs('"label=say ""hi""",x=1', "--opt"), { label: 'say "hi"', x: "1" });
  assert.deepEqual(parseCsvAttrs('"a="""', "--opt"), { a: '"' });
});

test("the last value of a repeated key wins", () => {
  assert.deepEqual(parseCsvAttrs("dest=a,dest=b", "--output"), { dest: "b" });
});

test("an unterminated quote is an InvalidArgument naming the flag", () => {
  invalid(() => parseCsvAttrs('type=image,"name=a,b', "--output"), /Invalid --output value .*unterminated quote/);
  invalid(() => parseCsvAttrs('"', "--secret"), /--secret.*unterminated quote/);
});

test("a field without = is an InvalidArgument quoting the field", () => {
  invalid(() => parseCsvAttrs("type=local,dest", "--output"), /"dest" is not key=value/);
  invalid(() => parseCsvAttrs("=x", "--output"), /"=x" is not key=value/);
});

test("empty fields and an empty value give no attributes", () => {
  assert.deepEqual(parseCsvAttrs("", "--output"), {});
  assert.deepEqual(parseCsvAttrs("type=tar,,dest=o.tar,", "--output"), { type: "tar", dest: "o.tar" });
});
