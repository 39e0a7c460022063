// Integration tests need root, runc, overlayfs and the loopback registry. On a developer's laptop a missing
// piece skips the test with the reason; under CI (CI=true) it fails, because a skipped test cannot fail.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { TestContext } from "node:test";

export interface Needs {
  root?: boolean;
  runc?: boolean;
  overlay?: boolean;
  registry?: boolean;
  tools?: readonly string[];
}

export const TEST_REGISTRY = process.env.GANTRY_TEST_REGISTRY ?? "127.0.0.1:5000";

function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function registryUp(): boolean {
  try {
    execFileSync("curl", ["-sf", `http://${TEST_REGISTRY}/v2/`], { stdio: "ignore", timeout: 3000 });
    return true;
  } catch {
    return false;
  }
}

/** What is missing for `needs`, or undefined when all is there. */
export function missing(needs: Needs): string | undefined {
  if (needs.root && process.getuid?.() !== 0) return "needs root";
  if (needs.runc && !hasTool("runc")) return "needs runc";
  if (needs.overlay && !readFileSync("/proc/filesystems", "utf8").includes("overlay")) return "needs overlayfs";
  for (const t of needs.tools ?? []) if (!hasTool(t)) return `needs ${t}`;
  if (needs.registry && !registryUp()) return `needs a registry on ${TEST_REGISTRY} (scripts/start-registry.sh)`;
  return undefined;
}

/** Call first in a test: skips it (or fails it under CI) when something it needs is missing. */
export function requires(t: TestContext, needs: Needs): boolean {
  const why = missing(needs);
  if (!why) return true;
  if (process.env.CI) throw new Error(`Integration prerequisite missing under CI: ${why}.`);
  t.skip(why);
  return false;
}
