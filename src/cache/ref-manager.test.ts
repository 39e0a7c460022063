import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { codeOf } from "../util/errors.js";
import { openOverlaySnapshotter } from "../snapshot/overlay-snapshotter.js";
import type { Snapshotter } from "../snapshot/snapshotter.js";
import { assertNoMountsUnder, treeOf, withMounted } from "../snapshot/testsuite/snapshot-access.js";
import type { Result } from "../solver/types.js";
import { createRefManager, type ImmutableRef, type RefManager } from "./ref-manager.js";
import { MetadataDb } from "./metadata-db.js";
import { checksumQuery, contentChecksum } from "./content-checksum.js";

// ImmutableRef must stay usable as the solver's Result (checked at compile time).
const asResult = (r: ImmutableRef): Result => r;
void asResult;

interface Env {
  sn: Snapshotter;
  refs: RefManager;
}

async function setup(t: TestContext): Promise<Env | undefined> {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to mount snapshots");
    return undefined;
  }
  const root = await mkdtemp("/tmp/gs-");
  const sn = await openOverlaySnapshotter(root);
  t.after(async () => {
    await sn.close();
    await assertNoMountsUnder(root);
    await rm(root, { recursive: true, force: true });
  });
  // Read-only mounts go under the root too, so the stray-mount check covers them.
  await mkdir(join(root, "mnt"));
  const db = new MetadataDb(":memory:");
  t.after(() => db.close());
  return { sn, refs: createRefManager({ snapshotter: sn, db, tmpDir: join(root, "mnt") }) };
}

/** Writes `files` (null deletes) on top of `parent` and commits. */
async function build(refs: RefManager, parent: ImmutableRef | null, files: Record<string, string | null>):
  Promise<ImmutableRef> {
  const m = await refs.newMutable(parent);
  await withMounted(await m.mounts(), async (dir) => {
    for (const [p, content] of Object.entries(files)) {
      if (content === null) await rm(join(dir, p), { recursive: true });
      else {
        await mkdir(join(dir, p, ".."), { recursive: true });
        await writeFile(join(dir, p), content);
      }
    }
  });
  return m.commit();
}

async function contentOf(refs: RefManager, ref: ImmutableRef | null): Promise<Record<string, string>> {
  const m = await refs.mountReadonly(ref);
  try {
    return await treeOf(m.dir);
  } finally {
    await m.release();
  }
}

async function names(sn: Snapshotter): Promise<string[]> {
  const out: string[] = [];
  await sn.walk((i) => void out.push(i.name));
  return out.sort();
}

test("the last release removes a snapshot; parents wait for their children", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const { sn, refs } = env;
  const a = await build(refs, null, { f: "a" });
  const b = await build(refs, a, { g: "b" });
  assert.deepEqual(await contentOf(refs, b), { f: "a", g: "b" });
  const a2 = a.clone();
  await a.release();
  await a.release(); // a second release of one handle is a no-op
  assert.equal((await sn.stat(a2.id)).kind, "committed");
  await a2.release();
  assert.equal((await sn.stat(a.id)).kind, "committed", "kept while child b lives");
  const revived = refs.get(a.id); // still live through b: a cache hit may take a new handle
  await revived.release();
  await b.release();
  assert.deepEqual(await names(sn), []);
  assert.throws(() => refs.get(a.id), (e) => codeOf(e) === "NotFound");
});

test("a released mutable ref leaves nothing; a committed one is used up", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const { sn, refs } = env;
  const base = await build(refs, null, { f: "1" });
  const m = await refs.newMutable(base);
  await base.release();
  await m.release();
  assert.deepEqual(await names(sn), []);
  const m2 = await refs.newMutable(null);
  const r = await m2.commit();
  await assert.rejects(m2.commit(), (e) => codeOf(e) === "FailedPrecondition");
  await assert.rejects(m2.mounts(), (e) => codeOf(e) === "FailedPrecondition");
  await r.release();
  assert.deepEqual(await names(sn), []);
});

test("merge stacks refs and keeps its inputs alive", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const { sn, refs } = env;
  const x = await build(refs, null, { a: "x", s: "x" });
  const y0 = await build(refs, null, { a: "y0", s: "y0" });
  const y = await build(refs, y0, { a: null });
  await y0.release();
  const m = await refs.merge([x, null, y]);
  assert.ok(m);
  await x.release();
  await y.release();
  assert.deepEqual(await contentOf(refs, m), { s: "y0" });
  assert.equal((await refs.layers(m)).length, 3);
  assert.equal(await refs.merge([null, null]), null);
  const only = await refs.merge([m]);
  assert.equal(only?.id, m.id);
  await only?.release();
  await m.release();
  assert.deepEqual(await names(sn), []);
});

test("diff of a descendant reuses its top layers; deletions apply when merged", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const { sn, refs } = env;
  const base = await build(refs, null, { a: "1", b: "2" });
  const top = await build(refs, base, { a: null, c: "3" });
  const d = await refs.diff(base, top);
  assert.ok(d);
  assert.equal((await refs.layers(d)).length, 1);
  assert.deepEqual(await contentOf(refs, d), { c: "3" });
  const other = await build(refs, null, { a: "other", z: "z" });
  const applied = await refs.merge([other, d]);
  assert.deepEqual(await contentOf(refs, applied), { c: "3", z: "z" });
  assert.equal(await refs.diff(top, top), null);
  const same = await refs.diff(null, top);
  assert.equal(same?.id, top.id);
  for (const r of [base, top, d, other, applied, same]) await r?.release();
  assert.deepEqual(await names(sn), []);
});

test("diff of unrelated refs is computed by walking both trees", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const { sn, refs } = env;
  const lower = await build(refs, null, { "keep": "k", "change": "old", "gone": "g", "dir/x": "x" });
  const upper = await build(refs, null, { "keep": "k", "change": "new", "dir/y": "y" });
  const d = await refs.diff(lower, upper);
  assert.ok(d);
  const merged = await refs.merge([lower, d]);
  assert.deepEqual(await contentOf(refs, merged), await contentOf(refs, upper));
  const wipe = await refs.diff(lower, null);
  assert.deepEqual(await contentOf(refs, wipe), {});
  const wiped = await refs.merge([lower, wipe]);
  assert.deepEqual(await contentOf(refs, wiped), {});
  for (const r of [lower, upper, d, merged, wipe, wiped]) await r?.release();
  assert.deepEqual(await names(sn), []);
});

test("mountReadonly of scratch is an empty directory", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const m = await env.refs.mountReadonly(null);
  assert.deepEqual(await treeOf(m.dir), {});
  await m.release();
});

test("knownChecksum answers what a view of the same ref computed, and nothing for other refs", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const a = await build(env.refs, null, { "f": "one" });
  const b = await build(env.refs, null, { "f": "two" });
  const query = checksumQuery("/f");
  assert.equal(env.refs.knownChecksum(a, query), undefined);
  const view = await env.refs.mountReadonly(a);
  const sum = await contentChecksum(view.dir, "/f");
  await view.release();
  assert.equal(env.refs.knownChecksum(a, query), sum);
  assert.equal(env.refs.knownChecksum(a, checksumQuery("/f", { followSymlinks: true })), undefined, "options are part of the query");
  assert.equal(env.refs.knownChecksum(b, query), undefined);
  const viewB = await env.refs.mountReadonly(b);
  assert.notEqual(await contentChecksum(viewB.dir, "/f"), sum);
  await viewB.release();
  for (const r of [a, b]) await r.release();
});

test("mountReadonly makes no view snapshot, and the mounted ref outlives its last other handle", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const { sn, refs } = env;
  const base = await build(refs, null, { "a": "1", "d/b": "2" });
  const top = await build(refs, base, { "a": null, "c": "3" });
  const before = await names(sn);
  const view = await refs.mountReadonly(top);
  assert.deepEqual(await names(sn), before, "no snapshot was created for the view");
  await top.release();
  await base.release();
  assert.deepEqual(await treeOf(view.dir), { "c": "3", "d/": "", "d/b": "2" });
  await view.release();
  assert.deepEqual(await names(sn), [], "the view's release let the refs go");
});

test("a read-only view of a lone diff layer hides its whiteouts", async (t) => {
  const env = await setup(t);
  if (!env) return;
  const { refs } = env;
  const base = await build(refs, null, { "a": "1", "b": "2" });
  const top = await build(refs, base, { "a": null, "c": "3" });
  const d = await refs.diff(base, top);
  assert.deepEqual(await contentOf(refs, d), { "c": "3" });
  for (const r of [d, top, base]) await r?.release();
});
