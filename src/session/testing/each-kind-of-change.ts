// Test driver shared by the sync tests that open their destination on demand: edits a client tree one
// kind of change at a time, so each sync implementation is shown to notice every kind.
import { chmod, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Makes each kind of change in `src` in turn and calls `step` with its label after each: content and time,
 * mode, time only, a new file, a removed file, a symlink retarget, a directory that becomes a file, a
 * directory's own mode. `src` must hold `a`, `d/b`, `d/e/c`, `x.log` and the symlink `lnk`.
 */
export async function eachKindOfChange(src: string, step: (label: string) => Promise<void>): Promise<void> {
  await writeFile(join(src, "d/b"), "B");
  await utimes(join(src, "d/b"), 5000, 5000);
  await step("content and time");
  await chmod(join(src, "d/e/c"), 0o600);
  await step("mode");
  await utimes(join(src, "a"), 7000, 7000);
  await step("time only");
  await writeFile(join(src, "d/e/new"), "new");
  await step("a new file");
  await rm(join(src, "x.log"));
  await step("a removed file");
  await rm(join(src, "lnk"));
  await symlink("d/b", join(src, "lnk"));
  await step("a symlink retarget");
  await rm(join(src, "d/e"), { recursive: true });
  await writeFile(join(src, "d/e"), "now a file");
  await step("a directory that becomes a file");
  await chmod(join(src, "d"), 0o750);
  await step("a directory's own mode");
}
