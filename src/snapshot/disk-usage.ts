import { runTool } from "../oci/run-tool.js";
import type { Usage } from "./snapshotter.js";

/** Bytes allocated and inodes used under `dir` (hardlinks once), measured by du(1) without crossing mounts. */
export async function diskUsage(dir: string, opts: { signal?: AbortSignal } = {}): Promise<Usage> {
  const [bytes, inodes] = await Promise.all([
    runTool("du", ["-s", "-x", "-B1", dir], { signal: opts.signal }),
    runTool("du", ["-s", "-x", "--inodes", dir], { signal: opts.signal }),
  ]);
  return { size: Number.parseInt(bytes, 10), inodes: Number.parseInt(inodes, 10) };
}
