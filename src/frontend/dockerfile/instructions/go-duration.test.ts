import { test } from "node:test";
import assert from "node:assert/strict";
import { formatGoDuration, parseGoDuration } from "./go-duration.js";

test("parses Go durations", () => {
  assert.equal(parseGoDuration("1m30s"), 90e9);
  assert.equal(parseGoDuration("1.5h"), 5400e9);
  assert.equal(parseGoDuration("300ms"), 300e6);
  assert.equal(parseGoDuration("0"), 0);
  assert.throws(() => parseGoDuration("5"), /missing unit|invalid duration|unknown unit/);
  assert.throws(() => parseGoDuration("5x"), /unknown unit "x"/);
});

test("formats like Duration.String", () => {
  assert.equal(formatGoDuration(0), "0s");
  assert.equal(formatGoDuration(5e9), "5s");
  assert.equal(formatGoDuration(90e9), "1m30s");
  assert.equal(formatGoDuration(3600e9), "1h0m0s");
  assert.equal(formatGoDuration(1.5e9), "1.5s");
  assert.equal(formatGoDuration(300e6), "300ms");
  assert.equal(formatGoDuration(1500), "1.5µs");
});
