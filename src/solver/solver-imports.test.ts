// The solver is generic: it must import nothing but util/ (ARCHITECTURE "Layers"), so it stays testable
// with fake ops. This test keeps that true even where the repository-wide checker is not run.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const solverDir = dirname(fileURLToPath(import.meta.url));
const srcDir = resolve(solverDir, "..");

function productionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === "testing" ? [] : productionFiles(p);
    // Runs from src/ (tsx) or from dist/ (compiled): read .ts or .js, never declarations or tests.
    return /\.(ts|js)$/.test(d.name) && !/\.(d|test)\.(ts|js)$/.test(d.name) ? [p] : [];
  });
}

test("solver/ imports only itself and util/", () => {
  const files = productionFiles(solverDir);
  assert.ok(files.length >= 5);
  for (const file of files) {
    for (const m of readFileSync(file, "utf8").matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)) {
      const layer = relative(srcDir, resolve(dirname(file), m[1])).split("/")[0];
      assert.ok(layer === "solver" || layer === "util", `${relative(srcDir, file)} imports ${m[1]}`);
    }
  }
});
