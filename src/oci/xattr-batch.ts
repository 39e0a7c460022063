// Extended attributes of several layer directories from one `getfattr` run. Exporting many small layers
// (one per RUN) would otherwise start one getfattr process per layer, which costs more than the tar itself.
import { isAbsolute, normalize } from "node:path";
import { argBatches, runTool } from "./run-tool.js";
import { parseGetfattr, readXattrs, type XattrMap } from "./xattr-reader.js";

/**
 * The xattrs under each of `dirs` (absolute, none inside another), keyed by the dir as given; each value
 * is what `readXattrs(dir)` returns. Rejects (Internal, or Canceled on abort) when getfattr fails for any
 * of them, e.g. a missing directory: callers then read each directory alone to find the culprit.
 */
export async function readXattrsOfDirs(dirs: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<Map<string, XattrMap>> {
  const out = new Map<string, XattrMap>();
  if (dirs.length === 1) {
    out.set(dirs[0], await readXattrs(dirs[0], opts));
    return out;
  }
  // Relative to `/` so getfattr prints each path below its directory without a warning on stderr.
  const rels = dirs.map((d) => {
    if (!isAbsolute(d)) throw new TypeError(`readXattrsOfDirs needs absolute paths, got ${d}`);
    return normalize(d).replace(/^\/+|\/+$/g, "");
  });
  for (const d of dirs) out.set(d, new Map());
  for (const batch of argBatches(rels)) {
    const text = await runTool("getfattr", ["-R", "-P", "-h", "-d", "-m", "-", "-e", "base64", "--", ...batch],
      { cwd: "/", signal: opts.signal });
    for (const [path, attrs] of parseGetfattr(text)) {
      const i = ownerOf(rels, path);
      if (i < 0) continue;
      const rest = path === rels[i] ? "" : path.slice(rels[i].length + 1);
      (out.get(dirs[i]) as XattrMap).set(rest, attrs);
    }
  }
  return out;
}

function ownerOf(rels: readonly string[], path: string): number {
  for (let i = 0; i < rels.length; i++) {
    if (path === rels[i] || path.startsWith(`${rels[i]}/`)) return i;
  }
  return -1;
}
