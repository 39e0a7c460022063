// Overlay-form whiteouts in a layer directory: a deleted path is a 0/0 character device, a directory
// that hides everything below it carries the `trusted.overlay.opaque=y` xattr. Node can neither mknod nor
// set xattrs, so these batch the work into one spawned tool per call (GNU tar for devices, attr tools
// for xattrs) instead of one process per file.
import type { Stats } from "node:fs";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import { argBatches, runTool, startTool } from "./run-tool.js";

export const OPAQUE_XATTR = "trusted.overlay.opaque";

/** True for an overlay whiteout: a character device with device number 0/0. */
export function isWhiteoutStat(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * Creates a whiteout (char device 0/0, mode 0, owner 0:0, mtime epoch) at each path, relative to `root`.
 * Parent directories must exist; an existing non-directory at a path is replaced.
 */
export async function createWhiteouts(root: string, relPaths: readonly string[], opts: { signal?: AbortSignal } = {}):
  Promise<void> {
  if (relPaths.length === 0) return;
  const p = pack();
  // --ignore-zeros: read to EOF, so tar cannot exit (closing the pipe under us) at the end-of-archive blocks.
  const tar = startTool("tar", ["-x", "-f", "-", "-C", root, "--numeric-owner", "--same-owner", "-p", "--ignore-zeros"],
    { pipeStdin: true, signal: opts.signal });
  const fed = pipeline(p, tar.child.stdin!);
  for (const rel of relPaths) {
    p.entry({ name: rel, type: "character-device", mode: 0, uid: 0, gid: 0, devmajor: 0, devminor: 0,
      mtime: new Date(0), size: 0 });
  }
  p.finalize();
  await Promise.all([fed, tar.done]);
}

/** Marks each directory (relative to `root`) opaque. Symlinks are not followed. */
export async function setOpaqueDirs(root: string, relDirs: readonly string[], opts: { signal?: AbortSignal } = {}):
  Promise<void> {
  for (const batch of argBatches(relDirs.map((d) => (d === "" ? "." : d)))) {
    await runTool("setfattr", ["-h", "-n", OPAQUE_XATTR, "-v", "y", "--", ...batch], { cwd: root, signal: opts.signal });
  }
}

/** The directories under `root` (relative paths, "" for root itself) marked opaque. One tree walk by getfattr. */
export async function listOpaqueDirs(root: string, opts: { signal?: AbortSignal } = {}): Promise<Set<string>> {
  const out = await runTool("getfattr", ["-R", "-P", "-d", "-e", "text", "-m", "^trusted\\.overlay\\.opaque$", "."],
    { cwd: root, signal: opts.signal });
  const dirs = new Set<string>();
  let file: string | undefined;
  for (const line of out.split("\n")) {
    if (line.startsWith("# file: ")) file = unescapeGetfattr(line.slice("# file: ".length));
    else if (file !== undefined && line === `${OPAQUE_XATTR}="y"`) dirs.add(file === "." ? "" : file.replace(/^\.\//, ""));
  }
  return dirs;
}

// getfattr prints unusual bytes in file names as backslash + 3 octal digits; a run of them is UTF-8.
function unescapeGetfattr(s: string): string {
  return s.replace(/(?:\\[0-7]{3})+/g,
    (run) => Buffer.from(run.split("\\").slice(1).map((o) => parseInt(o, 8))).toString("utf8"));
}
