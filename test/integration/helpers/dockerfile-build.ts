// Builds a Dockerfile directory with the CLI (embedded engine, one process per build) and reads the
// vertex events of its rawjson progress, for assertions on what ran and what was CACHED.
import { runGantry, type CliResult } from "./gantry-cli.js";

export interface VertexSummary {
  name: string;
  cached: boolean;
  completed: boolean;
  error?: string;
}

export interface DockerfileBuild extends CliResult {
  /** Last state of each vertex, by name. */
  vertices: Map<string, VertexSummary>;
}

/** `gantry --root <root> build` of `dir` with rawjson progress, exporting to `out` (a tar file). */
export async function buildDockerfile(root: string, dir: string, out: string, extra: string[] = [], signal?: AbortSignal): Promise<DockerfileBuild> {
  const res = await runGantry(["--root", root, "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`, "--local", `dockerfile=${dir}`,
    "--progress", "rawjson", "--output", `type=tar,dest=${out}`, ...extra], { signal });
  const vertices = new Map<string, VertexSummary>();
  for (const line of res.stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    let msg: { vertexes?: Array<{ name: string; cached?: boolean; completed?: string; error?: string }> };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      continue;
    }
    for (const v of msg.vertexes ?? []) {
      const prev = vertices.get(v.name);
      vertices.set(v.name, {
        name: v.name,
        cached: (prev?.cached ?? false) || v.cached === true,
        completed: (prev?.completed ?? false) || v.completed !== undefined,
        ...(v.error ? { error: v.error } : {}),
      });
    }
  }
  return { ...res, vertices };
}

/** The Dockerfile steps (`[n/m] …`) of a build, with whether each was CACHED. */
export function steps(b: DockerfileBuild): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const v of b.vertices.values()) if (/^\[\d+\/\d+\]/.test(v.name)) out[v.name.replace(/^\[\d+\/\d+\] /, "")] = v.cached;
  return out;
}
