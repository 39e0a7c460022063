// Test helpers for the file actions: temp roots and a one-line-per-entry listing of a tree (like the
// conformance corpus's fs.txt), so tests can compare whole results.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

/** A fresh directory removed when the test file ends. */
export function tempDir(prefix = "gantry-file-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `path type mode uid:gid detail` for every entry below `root`, sorted; detail is content or link target. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const inodes = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = `${rel}/${name}`;
      const st = lstatSync(join(root, p));
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      const owner = `${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.push(`${p} dir ${mode} ${owner}`);
        walk(p);
      } else if (st.isSymbolicLink()) {
        out.push(`${p} symlink ${mode} ${owner} ${readlinkSync(join(root, p))}`);
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (st.nlink > 1 && first === undefined) inodes.set(key, p);
        out.push(first !== undefined ? `${p} hardlink ${mode} ${owner} ${first}`
          : `${p} file ${mode} ${owner} ${readFileSync(join(root, p), "utf8")}`);
      } else {
        out.push(`${p} other ${mode} ${owner}`);
      }
    }
  };
  walk("");
  return out;
}
