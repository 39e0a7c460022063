import { test } from "node:test";
import assert from "node:assert/strict";
import { goFixed } from "./go-fixed.js";
import { humanBytes } from "./human-bytes.js";

test("humanBytes prints whole bytes below 1 kB and 2-decimal decimal units above", () => {
  const cases: [number, string][] = [
    [0, "0B"],
    [77, "77B"],
    [999, "999B"],
    [1000, "1.00kB"],
    [1234, "1.23kB"],
    [999_999, "1000.00kB"],
    [1_000_000, "1.00MB"],
    [1_050_000, "1.05MB"],
    [3_370_000, "3.37MB"],
    [2.5e9, "2.50GB"],
    [1e12, "1.00TB"],
    [1e15, "1.00PB"],
    [1e18, "1.00EB"],
    [5e21, "5000.00EB"],
  ];
  for (const [n, want] of cases) assert.equal(humanBytes(n), want, `humanBytes(${n})`);
});

test("exact ties round to even as Go's %.2f does", () => {
  assert.equal(humanBytes(1125), "1.12kB");
  assert.equal(humanBytes(1375), "1.38kB");
  assert.equal(humanBytes(1135), "1.14kB"); // 1.135 is 1.13500000000000000888… in binary: not a tie
});

test("goFixed matches Go's %.Nf", () => {
  const cases: [number, number, string][] = [
    [0, 1, "0.0"],
    [0.25, 1, "0.2"],
    [0.35, 1, "0.3"], // 0.35 is 0.34999… in binary
    [0.75, 1, "0.8"],
    [1.25, 1, "1.2"],
    [2.5, 0, "2"],
    [3.5, 0, "4"],
    [0.0625, 3, "0.062"],
    [9.9995, 3, "9.999"],
    [123.45, 1, "123.5"],
    [12.345, 2, "12.35"], // 12.3450000000000006…
    [-1.25, 1, "-1.2"],
    [-0.04, 1, "-0.0"],
    [1234.5678, 2, "1234.57"],
  ];
  for (const [x, d, want] of cases) assert.equal(goFixed(x, d), want, `goFixed(${x}, ${d})`);
});
