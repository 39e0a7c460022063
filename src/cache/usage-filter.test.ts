import assert from "node:assert/strict";
import { test } from "node:test";
import { codeOf } from "../util/errors.js";
import { parseUsageFilters, type FilterableRecord } from "./usage-filter.js";

const rec = (o: Partial<FilterableRecord>): FilterableRecord => ({
  id: "abc", parents: [], description: "", inUse: false, mutable: false, recordType: "regular", shared: false, ...o,
});

test("== != ~= and presence, comma is AND, list is OR", () => {
  const cache = rec({ recordType: "exec.cachemount", mutable: true, description: "cached mount /root/.cache" });
  const local = rec({ id: "def", recordType: "source.local", inUse: true, parents: ["p1"] });
  const f = (...s: string[]) => parseUsageFilters(s);
  assert.ok(f().matches(cache));
  assert.ok(f("type==exec.cachemount").matches(cache));
  assert.ok(!f("type==exec.cachemount").matches(local));
  assert.ok(f("type==exec.cachemount", "type==source.local").matches(local), "strings are alternatives");
  assert.ok(!f("type==exec.cachemount,type==source.local").matches(local), "commas join conditions");
  assert.ok(f("type!=regular,mutable").matches(cache));
  assert.ok(!f("immutable").matches(cache));
  assert.ok(f("inuse").matches(local) && !f("inuse").matches(cache));
  assert.ok(f("description~=^cached mount").matches(cache));
  assert.ok(f('description=="cached mount /root/.cache"').matches(cache));
  assert.ok(f("description~=/mount \\/root/").matches(cache));
  assert.ok(f("id==def").matches(local) && !f("id==def").matches(cache));
  assert.ok(f("parents==p1").matches(local));
  assert.ok(f("private").matches(local) && !f("shared").matches(local));
});

test("a malformed filter is InvalidArgument naming it", () => {
  for (const bad of ["==x", "type=a", 'description=="open', "description~=("]) {
    assert.throws(() => parseUsageFilters([bad]), (e) => codeOf(e) === "InvalidArgument" && (e as Error).message.includes(bad), bad);
  }
});
