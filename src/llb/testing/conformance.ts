// Test helper: the Definitions upstream's Go client wrote (shared/conformance/llb) and their dumps.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The five conformance cases. */
export const CASES = ["seed", "parallel", "copy-context", "link-merge", "fileops"] as const;

// Found by walking up from this file, so tests run the same from src/ (tsx) and dist/ (node).
function conformanceDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, "shared", "conformance", "llb");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("shared/conformance/llb was not found above the test file");
}

/** The raw Definition bytes of a case. */
export function readCasePb(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(conformanceDir(), `${name}.pb`)));
}

/** The `buildctl debug dump-llb` text of a case. */
export function readCaseDump(name: string): string {
  return readFileSync(join(conformanceDir(), `${name}.json`), "utf8");
}

/** The dump parsed: one object per line. */
export function readCaseDumpObjects(name: string): { Digest: string; Op: unknown; OpMetadata: unknown }[] {
  return readCaseDump(name).split("\n").filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { Digest: string; Op: unknown; OpMetadata: unknown });
}
