// Test helper: a path inside the project's `shared/` folder (beside the repository), found by walking up
// from this file so tests run the same from src/ (tsx) and from dist/ (compiled), wherever the clone is.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let found: string | undefined;

export function sharedPath(...parts: string[]): string {
  if (!found) {
    const env = process.env.GANTRY_SHARED;
    if (env && existsSync(join(env, "conformance"))) found = env;
    for (let dir = dirname(fileURLToPath(import.meta.url)); !found && dir !== dirname(dir); dir = dirname(dir)) {
      if (existsSync(join(dir, "shared", "conformance"))) found = join(dir, "shared");
    }
    if (!found) throw new Error("The shared/ folder (with conformance/) was not found above the test file; set GANTRY_SHARED.");
  }
  return join(found, ...parts);
}
