import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { sha256 } from "../util/digest.js";
import { codeOf } from "../util/errors.js";
import { openLocalContentStore } from "./local-content-store.js";
import { runContentStoreSuite } from "./testsuite/content-store-suite.js";

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), "gantry-content-"));
}

runContentStoreSuite("LocalContentStore", async () => {
  const root = await tempRoot();
  return { store: await openLocalContentStore(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

test("blobs sit at blobs/sha256/<hex>, read-only, and no ingest is left behind", async () => {
  const root = await tempRoot();
  try {
    const s = await openLocalContentStore(root);
    const d = await s.putBlob(Buffer.from("layout"));
    assert.equal(s.path(d), join(root, "blobs", "sha256", d.slice(7)));
    assert.equal((await stat(s.path(d))).mode & 0o777, 0o444);
    await assert.rejects(s.putBlob(Buffer.from("x"), sha256("y")));
    const w = await s.writer({ ref: "aborted" });
    await w.write(Buffer.from("gone"));
    await w.abort();
    assert.deepEqual(await readdir(join(root, "ingest")), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("labels survive reopening the store", async () => {
  const root = await tempRoot();
  try {
    const s = await openLocalContentStore(root);
    const d = await s.putBlob(Buffer.from("persist"));
    await s.update(d, { "gantry.gc.root": "1" });
    const again = await openLocalContentStore(root);
    assert.deepEqual((await again.info(d)).labels, { "gantry.gc.root": "1" });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("opening sweeps stale ingests but keeps recent ones", async () => {
  const root = await tempRoot();
  try {
    await openLocalContentStore(root);
    const stale = join(root, "ingest", "stale");
    const fresh = join(root, "ingest", "fresh");
    await writeFile(stale, "old");
    await writeFile(fresh, "new");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);
    await openLocalContentStore(root);
    assert.deepEqual(await readdir(join(root, "ingest")), ["fresh"]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("a corrupt label sidecar is reported, not ignored", async () => {
  const root = await tempRoot();
  try {
    const s = await openLocalContentStore(root);
    const d = await s.putBlob(Buffer.from("labels"));
    await s.update(d, { a: "b" });
    await writeFile(join(root, "labels", "sha256", `${d.slice(7)}.json`), "[1]");
    await assert.rejects(s.info(d), (err: unknown) => codeOf(err) === "Internal");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
