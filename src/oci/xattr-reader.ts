// Reads every extended attribute under a directory with one `getfattr -R` run (Node has no xattr API,
// and one process per file would be far slower than one tree walk in C).
import { GantryError, errnoOf } from "../util/errors.js";
import { runTool } from "./run-tool.js";

/** Relative path ("" for the root) → xattr name → raw value. Paths without xattrs are absent. */
export type XattrMap = Map<string, Map<string, Buffer>>;

/**
 * All xattrs (every namespace this process may read) of the files under `dir`, symlinks not followed.
 * FailedPrecondition when `getfattr` is not installed (Debian/Ubuntu package `attr`).
 */
export async function readXattrs(dir: string, opts: { signal?: AbortSignal } = {}): Promise<XattrMap> {
  let out: string;
  try {
    out = await runTool("getfattr", ["-R", "-P", "-h", "-d", "-m", "-", "-e", "base64", "."],
      { cwd: dir, signal: opts.signal });
  } catch (err) {
    if (isMissingTool(err)) {
      throw new GantryError("FailedPrecondition", `Cannot read extended attributes under ${dir}: getfattr is not installed.`,
        { cause: err, hint: "Install the attr package (apt-get install attr)." });
    }
    throw err;
  }
  return parseGetfattr(out);
}

function isMissingTool(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (errnoOf(e) === "ENOENT") return true;
  return false;
}

/** Parses `getfattr -d -e base64` output. Exported for tests. */
export function parseGetfattr(out: string): XattrMap {
  const map: XattrMap = new Map();
  let cur: Map<string, Buffer> | undefined;
  for (const line of out.split("\n")) {
    if (line.startsWith("# file: ")) {
      let path = unescapeName(line.slice("# file: ".length));
      if (path === ".") path = "";
      else if (path.startsWith("./")) path = path.slice(2);
      cur = new Map();
      map.set(path, cur);
      continue;
    }
    const eq = line.indexOf("=");
    if (cur === undefined || line === "" || eq < 0) continue;
    cur.set(line.slice(0, eq), decodeValue(line.slice(eq + 1)));
  }
  return map;
}

function decodeValue(v: string): Buffer {
  if (v.startsWith("0s")) return Buffer.from(v.slice(2), "base64");
  if (v.startsWith("0x")) return Buffer.from(v.slice(2), "hex");
  if (v.startsWith('"') && v.endsWith('"')) return Buffer.from(unescapeName(v.slice(1, -1)));
  return Buffer.from(v);
}

// getfattr prints unusual bytes as a backslash and 3 octal digits (and a backslash as `\\`); runs of
// escaped bytes are UTF-8 sequences.
function unescapeName(s: string): string {
  return s.replace(/(?:\\[0-7]{3}|\\\\)+/g, (run) => {
    const bytes: number[] = [];
    for (let i = 0; i < run.length;) {
      if (run[i + 1] === "\\") {
        bytes.push(0x5c);
        i += 2;
      } else {
        bytes.push(parseInt(run.slice(i + 1, i + 4), 8));
        i += 4;
      }
    }
    return Buffer.from(bytes).toString("utf8");
  });
}
