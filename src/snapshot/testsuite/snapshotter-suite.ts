// The Snapshotter conformance suite (containerd's contract plus merge, layers and chains). Every
// implementation's test calls `runSnapshotterSuite` once. Needs root for mounts: skips otherwise.
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import assert from "node:assert/strict";
import { describe, test, type TestContext } from "node:test";
import { codeOf, type ErrorCode } from "../../util/errors.js";
import { isLayerChainer } from "../layer-chainer.js";
import { mountAll, unmountAll } from "../mount.js";
import { isLayerDiffer, type Mount, type Snapshotter } from "../snapshotter.js";
import { assertNoMountsUnder, readTree, withMounted } from "./snapshot-access.js";
import { assertMetadata, writeMetadataFixture } from "./snapshot-suite-metadata.js";

export type SnapshotterFactory = (root: string) => Promise<Snapshotter>;

interface Env {
  root: string;
  sn: Snapshotter;
}

/** Registers the suite under `describe(name)`; `factory` opens an implementation on a fresh or reused root. */
export function runSnapshotterSuite(name: string, factory: SnapshotterFactory): void {
  describe(name, () => {
    const it = (title: string, body: (env: Env, t: TestContext) => Promise<void>): void => {
      test(title, async (t) => {
        if (process.getuid?.() !== 0) return t.skip("needs root to mount snapshots");
        // A short root keeps overlay lower dir options short.
        const root = await mkdtemp("/tmp/gs-");
        const sn = await factory(root);
        try {
          await body({ root, sn }, t);
        } finally {
          await sn.close();
          await assertNoMountsUnder(root);
          await rm(root, { recursive: true, force: true });
        }
      });
    };
    registerBasics(it, factory);
    registerErrors(it);
    registerMerge(it);
    registerLayers(it);
  });
}

type It = (title: string, body: (env: Env, t: TestContext) => Promise<void>) => void;

/** Prepares `key` on `parent`, applies `files` (null deletes), commits it as `name`. */
export async function commitFiles(sn: Snapshotter, name: string, parent: string | undefined,
  files: Record<string, string | null>): Promise<void> {
  const key = `${name}-active`;
  await withMounted(await sn.prepare(key, parent), async (dir) => {
    for (const [path, content] of Object.entries(files)) {
      if (content === null) await rm(join(dir, path), { recursive: true });
      else {
        await mkdir(join(dir, path, ".."), { recursive: true });
        await writeFile(join(dir, path), content);
      }
    }
  });
  await sn.commit(name, key);
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err) => codeOf(err) === code || assert.fail(`expected ${code}, got ${String(err)}`));
}

function registerBasics(it: It, factory: SnapshotterFactory): void {
  it("prepare, commit and view round-trip content; stat and walk report kinds", async ({ sn }) => {
    await commitFiles(sn, "base", undefined, { "etc/hostname": "gantry", "bin/sh": "#!" });
    assert.deepEqual(await readTree(sn, "base"), { "bin/": "", "bin/sh": "#!", "etc/": "", "etc/hostname": "gantry" });
    assert.equal((await sn.stat("base")).kind, "committed");
    await sn.prepare("work", "base", { labels: { a: "b" } });
    const info = await sn.stat("work");
    assert.deepEqual([info.kind, info.parent, info.labels.a], ["active", "base", "b"]);
    await sn.view("look", "base");
    assert.equal((await sn.stat("look")).kind, "view");
    const seen: string[] = [];
    await sn.walk((i) => void seen.push(`${i.name}:${i.kind}`));
    assert.deepEqual(seen.sort(), ["base:committed", "look:view", "work:active"]);
    assert.ok((await sn.mounts("work")).length > 0);
    await sn.remove("look");
    await sn.remove("work");
    await sn.remove("base");
    await rejectsWith(sn.stat("base"), "NotFound");
  });

  it("children see parent files, and deletions in a child hide them", async ({ sn }) => {
    await commitFiles(sn, "p", undefined, { "a": "1", "b": "2", "d/x": "3" });
    await commitFiles(sn, "c", "p", { "b": null, "a": "changed", "d": null, "n": "new" });
    await commitFiles(sn, "g", "c", { "d/y": "back" });
    assert.deepEqual(await readTree(sn, "c"), { "a": "changed", "n": "new" });
    assert.deepEqual(await readTree(sn, "g"), { "a": "changed", "n": "new", "d/": "", "d/y": "back" });
    assert.deepEqual(await readTree(sn, "p"), { "a": "1", "b": "2", "d/": "", "d/x": "3" });
  });

  it("modes, owners, mtimes, symlinks and fifos survive commit, children and merge", async ({ sn }) => {
    await withMounted(await sn.prepare("meta-a", undefined), writeMetadataFixture);
    await sn.commit("meta", "meta-a");
    await assertMetadata(sn, "meta", 0o4755);
    await withMounted(await sn.prepare("meta-c", "meta"), async (dir) => {
      await chmod(join(dir, "suid"), 0o2711);
      await utimes(join(dir, "suid"), 1_500_000_000, 1_500_000_000);
    });
    await sn.commit("meta-child", "meta-c");
    await assertMetadata(sn, "meta-child", 0o2711);
    await commitFiles(sn, "unrelated", undefined, { other: "o" });
    await sn.merge("meta-merge", ["unrelated", "meta-child"]);
    await assertMetadata(sn, "meta-merge", 0o2711);
  });

  it("usage counts the snapshot's own data", async ({ sn }) => {
    await commitFiles(sn, "u", undefined, { "big": "x".repeat(200_000) });
    const u = await sn.usage("u");
    assert.ok(u.size >= 200_000, `size ${u.size}`);
    assert.ok(u.inodes >= 2, `inodes ${u.inodes}`);
  });

  it("reopening keeps records and deletes half-created snapshot directories", async ({ root, sn }) => {
    await commitFiles(sn, "keep", undefined, { "f": "kept" });
    await sn.prepare("open", "keep");
    await mkdir(join(root, "snapshots", "9999", "fs"), { recursive: true });
    await sn.close();
    const again = await factory(root);
    try {
      assert.equal((await again.stat("open")).kind, "active");
      assert.deepEqual(await readTree(again, "keep"), { f: "kept" });
      await assert.rejects(lstat(join(root, "snapshots", "9999")), { code: "ENOENT" });
      await commitFiles(again, "after", "keep", { g: "1" });
      assert.deepEqual(await readTree(again, "after"), { f: "kept", g: "1" });
    } finally {
      await again.close();
    }
  });
}

function registerErrors(it: It): void {
  it("returns NotFound, AlreadyExists and FailedPrecondition as containerd does", async ({ sn }) => {
    await rejectsWith(sn.stat("nope"), "NotFound");
    await rejectsWith(sn.mounts("nope"), "NotFound");
    await rejectsWith(sn.remove("nope"), "NotFound");
    await rejectsWith(sn.prepare("k", "nope"), "NotFound");
    await rejectsWith(sn.commit("x", "nope"), "NotFound");
    await commitFiles(sn, "base", undefined, { f: "1" });
    await rejectsWith(sn.prepare("base", undefined), "AlreadyExists");
    await sn.prepare("k", "base");
    await rejectsWith(sn.prepare("k", "base"), "AlreadyExists");
    await rejectsWith(sn.commit("base", "k"), "AlreadyExists");
    await rejectsWith(sn.prepare("k2", "k"), "FailedPrecondition");
    await sn.view("v", "base");
    await rejectsWith(sn.commit("v2", "v"), "FailedPrecondition");
    await rejectsWith(sn.remove("base"), "FailedPrecondition");
    await rejectsWith(sn.merge("m", ["base", "nope"]), "NotFound");
    await rejectsWith(sn.merge("base", ["base"]), "AlreadyExists");
    await sn.remove("v");
    await sn.remove("k");
    await sn.remove("base");
  });
}

function registerMerge(it: It): void {
  it("merge stacks parents in order: later wins, including deletions", async ({ sn }) => {
    await commitFiles(sn, "a", undefined, { "keep": "a", "shared": "from-a", "gone": "a", "dir/a": "a" });
    await commitFiles(sn, "b0", undefined, { "gone": "b0", "shared": "b0", "dir/b": "b" });
    await commitFiles(sn, "b", "b0", { "gone": null, "shared": "from-b" });
    await sn.merge("m", ["a", "b"]);
    assert.deepEqual(await readTree(sn, "m"),
      { "keep": "a", "shared": "from-b", "dir/": "", "dir/a": "a", "dir/b": "b" });
    await sn.merge("m2", ["b", "a"]);
    assert.deepEqual(await readTree(sn, "m2"),
      { "keep": "a", "shared": "from-a", "gone": "a", "dir/": "", "dir/a": "a", "dir/b": "b" });
    await sn.merge("same", ["a", "a"]);
    assert.deepEqual(await readTree(sn, "same"), await readTree(sn, "a"));
    await commitFiles(sn, "child", "m", { "keep": null, "more": "1" });
    assert.deepEqual(await readTree(sn, "child"),
      { "shared": "from-b", "more": "1", "dir/": "", "dir/a": "a", "dir/b": "b" });
    await rejectsWith(sn.remove("a"), "FailedPrecondition");
    for (const n of ["child", "m", "m2", "same"]) await sn.remove(n);
    await sn.remove("a");
  });
}

function registerLayers(it: It): void {
  it("layers() lists each layer's diff in overlay form, bottom to top", async ({ sn }, t) => {
    if (!isLayerDiffer(sn)) return t.skip("not a LayerDiffer");
    await commitFiles(sn, "l1", undefined, { "a": "1", "b": "2" });
    await commitFiles(sn, "l2", "l1", { "b": null, "c": "3" });
    const layers = await sn.layers("l2");
    assert.equal(layers.length, 2);
    assert.deepEqual((await readdir(layers[0].path)).sort(), ["a", "b"]);
    assert.deepEqual((await readdir(layers[1].path)).sort(), ["b", "c"]);
    const wh = await lstat(join(layers[1].path, "b"));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, "deletion is a 0/0 whiteout");
    assert.equal(await readFile(join(layers[1].path, "c"), "utf8"), "3");
  });

  it("commitChain builds a snapshot from a sub-chain (a diff) whose whiteouts stay hidden", async ({ sn }, t) => {
    if (!isLayerChainer(sn)) return t.skip("not a LayerChainer");
    await commitFiles(sn, "lower", undefined, { "a": "1", "b": "2" });
    await commitFiles(sn, "upper", "lower", { "b": null, "c": "3" });
    const chain = await sn.chain("upper");
    assert.deepEqual(chain.slice(0, -1), await sn.chain("lower"));
    await sn.commitChain("diff", chain.slice(1));
    assert.deepEqual(await readTree(sn, "diff"), { c: "3" });
    await sn.merge("onto", ["lower", "diff"]);
    assert.deepEqual(await readTree(sn, "onto"), { a: "1", c: "3" });
    await rejectsWith(sn.commitChain("bad", ["123456"]), "NotFound");
    await rejectsWith(sn.remove("upper"), "FailedPrecondition");
  });

  it("a prepared snapshot can be mounted twice in a row and stays writable", async ({ sn }) => {
    const mounts: Mount[] = await sn.prepare("rw", undefined);
    const dir = await mkdtemp("/tmp/gs-mnt-");
    try {
      for (let i = 0; i < 2; i++) {
        await mountAll(mounts, dir);
        try {
          await writeFile(join(dir, `f${i}`), String(i));
        } finally {
          await unmountAll(dir);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await sn.commit("rw-done", "rw");
    assert.deepEqual(await readTree(sn, "rw-done"), { f0: "0", f1: "1" });
  });
}
