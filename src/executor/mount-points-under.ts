// Reading /proc/self/mountinfo to prove a directory has nothing mounted inside before it is deleted:
// a recursive delete crosses mount points and would wipe a snapshot still mounted there.
import { readFile } from "node:fs/promises";

/** Decodes mountinfo's octal escapes (`\040` for a space, and so on). */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Mount points of this process's namespace at or below `dir` (an absolute, symlink-free path). */
export async function mountPointsUnder(dir: string, mountinfo = "/proc/self/mountinfo"): Promise<string[]> {
  const text = await readFile(mountinfo, "utf8");
  const prefix = dir.endsWith("/") ? dir : dir + "/";
  const found: string[] = [];
  for (const line of text.split("\n")) {
    const field = line.split(" ")[4];
    if (field === undefined) continue;
    const mp = unescapeMountPath(field);
    if (mp === dir || mp.startsWith(prefix)) found.push(mp);
  }
  return found;
}
