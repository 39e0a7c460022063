// Test bed for cache/ tests: an overlay snapshotter and metadata.db in a temporary root that a test can
// reopen (as a new process would) or break (as a kill would).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { openOverlaySnapshotter } from "../../snapshot/overlay-snapshotter.js";
import type { Snapshotter } from "../../snapshot/snapshotter.js";
import { assertNoMountsUnder, withMounted } from "../../snapshot/testsuite/snapshot-access.js";
import { openCacheManager, type CacheManager } from "../cache-manager.js";
import type { ImmutableRef, RefManager } from "../ref-manager.js";

export interface CacheEnv {
  root: string;
  sn: Snapshotter;
  cache: CacheManager;
  /** Closes everything and opens the same root again, as the next process would. */
  reopen(): Promise<void>;
}

/** A fresh root, or undefined (test skipped) without root privileges. */
export async function cacheEnv(t: TestContext): Promise<CacheEnv | undefined> {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to mount snapshots");
    return undefined;
  }
  const root = await mkdtemp("/tmp/gc-");
  await mkdir(join(root, "mnt"));
  const open = async (): Promise<{ sn: Snapshotter; cache: CacheManager }> => {
    const sn = await openOverlaySnapshotter(join(root, "snapshots"));
    const cache = await openCacheManager({ dbPath: join(root, "metadata.db"), snapshotter: sn, tmpDir: join(root, "mnt") });
    return { sn, cache };
  };
  const env: CacheEnv = {
    root,
    ...(await open()),
    async reopen() {
      env.cache.close();
      await env.sn.close();
      Object.assign(env, await open());
    },
  };
  t.after(async () => {
    env.cache.close();
    await env.sn.close();
    await assertNoMountsUnder(root);
    await rm(root, { recursive: true, force: true });
  });
  return env;
}

/** Writes `files` on top of `parent` and commits. */
export async function buildRef(refs: RefManager, parent: ImmutableRef | null, files: Record<string, string>): Promise<ImmutableRef> {
  const m = await refs.newMutable(parent);
  await withMounted(await m.mounts(), async (dir) => {
    for (const [p, content] of Object.entries(files)) {
      await mkdir(join(dir, p, ".."), { recursive: true });
      await writeFile(join(dir, p), content);
    }
  });
  return m.commit();
}

/** Names of the snapshots that exist, sorted. */
export async function snapshotNames(sn: Snapshotter): Promise<string[]> {
  const out: string[] = [];
  await sn.walk((i) => void out.push(i.name));
  return out.sort();
}
