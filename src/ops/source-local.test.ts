import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { SourceOpSchema } from "../gen/pb/ops_pb.js";
import { cacheEnv } from "../cache/testing/cache-env.js";
import type { RefManager } from "../cache/ref-manager.js";
import { Attrs } from "../llb/keys.js";
import { createDirectSession } from "../session/direct-session.js";
import type { OpContext } from "../solver/types.js";
import type { BuildContext } from "./build-context.js";
import type { OpDeps } from "./op-deps.js";
import { createLocalSourceOp } from "./source-local.js";

/** `refs` with its newMutable calls counted (every snapshot the source makes goes through it). */
function countingRefs(refs: RefManager): { refs: RefManager; made: () => number } {
  let made = 0;
  const spy = new Proxy(refs, {
    get(target, prop) {
      if (prop === "newMutable") {
        return (...args: Parameters<RefManager["newMutable"]>) => {
          made++;
          return target.newMutable(...args);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { refs: spy, made: () => made };
}

/** A tree as "path → type, mode, time and content", owners left out (the copy is 0:0). */
async function treeOf(dir: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of (await readdir(join(dir, rel))).sort()) {
    const p = rel ? `${rel}/${n}` : n;
    const st = await lstat(join(dir, p));
    if (st.isSymbolicLink()) {
      out[p] = `-> ${await readlink(join(dir, p))}`;
      continue;
    }
    const meta = `${(st.mode & 0o7777).toString(8)} ${Math.round(st.mtimeMs)}`;
    if (st.isDirectory()) {
      out[p] = `dir ${meta}`;
      Object.assign(out, await treeOf(dir, p));
    } else out[p] = `${await readFile(join(dir, p), "utf8")} ${meta}`;
  }
  return out;
}

const progress = { digest: "", log: () => undefined, status: () => undefined, statusDone: () => undefined, warn: () => undefined };

test("an unchanged local source makes no snapshot; every kind of change still makes a head with exactly the client's files", async (t) => {
  const env = await cacheEnv(t);
  if (!env) return;
  const src = await mkdtemp(join(tmpdir(), "gantry-local-src-"));
  t.after(() => rm(src, { recursive: true, force: true }));
  await mkdir(join(src, "d/e"), { recursive: true });
  for (const [p, body] of [["a", "a"], ["d/b", "b"], ["d/e/c", "c"], ["x.log", "log"], ["t", "t"], ["real", "real"]]) {
    await writeFile(join(src, p), body);
  }
  await symlink("a", join(src, "lnk"));
  await symlink("real", join(src, "Dockerfile"));
  const { refs, made } = countingRefs(env.cache.refs);
  const deps = { refs, tmpDir: join(env.root, "mnt"), snapshotterKind: "overlay" } as unknown as OpDeps;
  const build = { session: createDirectSession({ locals: { context: src }, secrets: {} }) } as unknown as BuildContext;
  const ctx: OpContext = { signal: new AbortController().signal, progress };

  /** Runs the source; checks its result is the client's files (as `expected` filters them); returns the new snapshots. */
  const run = async (label: string, attrs: Record<string, string> = {}, expected?: Record<string, string>): Promise<number> => {
    const before = made();
    const op = createLocalSourceOp(create(SourceOpSchema, { identifier: "local://context", attrs }), build, deps);
    const [out] = await op.exec(ctx, []);
    try {
      const view = await env.cache.refs.mountReadonly(out.ref);
      try {
        assert.deepEqual(await treeOf(view.dir), expected ?? await treeOf(src), `${label}: the result is the client's files`);
      } finally {
        await view.release();
      }
    } finally {
      await out.release();
    }
    return made() - before;
  };

  assert.equal(await run("cold"), 1);
  assert.equal(await run("no change"), 0, "an unchanged source with an indexed head makes no snapshot");
  const changes: Array<[string, () => Promise<void>]> = [
    ["content and time", async () => {
      await writeFile(join(src, "d/b"), "B");
      await utimes(join(src, "d/b"), new Date(5_000_000), new Date(5_000_000));
    }],
    ["mode", () => chmod(join(src, "d/e/c"), 0o600)],
    ["time only", () => utimes(join(src, "a"), new Date(7_000_000), new Date(7_000_000))],
    ["a new file", () => writeFile(join(src, "d/e/new"), "new")],
    ["a removed file", () => rm(join(src, "x.log"))],
    ["a symlink retarget", async () => {
      await rm(join(src, "lnk"));
      await symlink("d/b", join(src, "lnk"));
    }],
    ["a directory that becomes a file", async () => {
      await rm(join(src, "d/e"), { recursive: true });
      await writeFile(join(src, "d/e"), "now a file");
    }],
    ["a file that becomes a directory", async () => {
      await rm(join(src, "t"));
      await mkdir(join(src, "t"));
      await writeFile(join(src, "t/inner"), "inner");
    }],
    ["a directory's own mode", () => chmod(join(src, "d"), 0o750)],
  ];
  for (const [label, change] of changes) {
    await change();
    assert.equal(await run(label), 1, `${label}: a new head`);
    assert.equal(await run(`${label}, then none`), 0, `${label}: the new head is indexed`);
  }

  const all = await treeOf(src);
  const without = (names: string[]): Record<string, string> =>
    Object.fromEntries(Object.entries(all).filter(([p]) => !names.some((n) => p === n || p.startsWith(`${n}/`))));
  const exclude = { [Attrs.localExcludePatterns]: JSON.stringify(["t", "a"]) };
  assert.equal(await run("an exclude pattern", exclude, without(["t", "a"])), 1);
  assert.equal(await run("the same exclude pattern", exclude, without(["t", "a"])), 0);
  const include = { [Attrs.localIncludePatterns]: JSON.stringify(["Dockerfile"]) };
  assert.equal(await run("an include pattern", include, { Dockerfile: all.Dockerfile }), 1);
  assert.equal(await run("the same include pattern", include, { Dockerfile: all.Dockerfile }), 0);
  const follow = { [Attrs.localIncludePatterns]: JSON.stringify(["Dockerfile"]), [Attrs.localFollowPaths]: JSON.stringify(["Dockerfile"]) };
  const followed = { Dockerfile: all.Dockerfile, real: all.real };
  assert.equal(await run("a follow path", follow, followed), 1);
  await writeFile(join(src, "real"), "real, edited");
  await utimes(join(src, "real"), new Date(9_000_000), new Date(9_000_000));
  assert.equal(await run("a followed target's edit", follow, { ...followed, real: (await treeOf(src)).real }), 1);
  assert.equal(await run("back to everything"), 1);
  assert.equal(await run("everything again"), 0);
});
