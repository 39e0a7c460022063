// Bulk copies for the copy snapshotter, done by cp(1) and GNU tar so that ownership, modes, mtimes,
// xattrs, devices and hardlinks survive and no per-file await runs in Node.
import { pipeline } from "node:stream/promises";
import { runTool, startTool } from "../oci/run-tool.js";

/** Copies the whole tree under `src` into the existing directory `dst` (reflinks where the fs can). */
export async function copyTree(src: string, dst: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
  await runTool("cp", ["-a", "--reflink=auto", "--", `${src}/.`, dst], { signal: opts.signal });
}

const XATTR_ARGS = ["--xattrs", "--xattrs-include=*", "--xattrs-exclude=trusted.overlay.*"];

/**
 * Copies the listed entries (paths relative to `srcRoot`, each on its own: directories without their
 * contents) to the same paths under `dstRoot`, replacing non-directories there. List parents before
 * children (a sorted list does). Overlay's own xattrs are not copied: opaqueness is a layer property.
 */
export async function copyEntries(srcRoot: string, dstRoot: string, relPaths: readonly string[],
  opts: { signal?: AbortSignal } = {}): Promise<void> {
  if (relPaths.length === 0) return;
  const names = relPaths.map((p) => (p === "" ? "." : p)).join("\0") + "\0";
  const create = startTool("tar", ["-c", "-f", "-", "-C", srcRoot, "--numeric-owner", "--no-recursion", "--null",
    "--verbatim-files-from", ...XATTR_ARGS, "-T", "-"], { input: names, pipeStdout: true, signal: opts.signal });
  // --ignore-zeros: read to EOF, so tar cannot exit (closing the pipe under us) at the end-of-archive blocks.
  const extract = startTool("tar", ["-x", "-f", "-", "-C", dstRoot, "--numeric-owner", "--same-owner", "-p",
    "--delay-directory-restore", "--ignore-zeros", ...XATTR_ARGS], { pipeStdin: true, signal: opts.signal });
  await Promise.all([pipeline(create.child.stdout!, extract.child.stdin!), create.done, extract.done]);
}
