// Runs a function with a writable snapshot mounted on a temporary directory, unmounting whatever happens.
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { MutableRef } from "../cache/ref-manager.js";
import { mountAll, unmountAll } from "../snapshot/mount.js";

export async function withMounted<T>(mutable: MutableRef, tmpDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpDir, "mnt-"));
  try {
    await mountAll(await mutable.mounts(), dir);
    try {
      return await fn(dir);
    } finally {
      await unmountAll(dir);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
