// The conformance suite every ContentStore implementation runs: visibility only after commit, digest and
// size checks at commit and on read, duplicates as success, labels, walk, delete, cancellation.
import assert from "node:assert/strict";
import { chmod, truncate, writeFile } from "node:fs/promises";
import { describe, test } from "node:test";
import type { Readable } from "node:stream";
import { sha256, type Digest } from "../../util/digest.js";
import { codeOf, isCanceled } from "../../util/errors.js";
import type { ContentStore } from "../content-store.js";

export interface ContentStoreFixture {
  store: ContentStore;
  /** Removes whatever the fixture created. */
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield enc.encode(p);
}

async function drain(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function assertCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal(codeOf(err), code, `expected ${code}, got ${codeOf(err)}: ${String(err)}`);
    if (message) assert.match(String((err as Error).message), message);
    return true;
  });
}

/** Registers the suite under `name`; `factory` gives each test a fresh, empty store. */
export function runContentStoreSuite(name: string, factory: () => Promise<ContentStoreFixture>): void {
  const withStore = (title: string, fn: (s: ContentStore) => Promise<void>): void => {
    test(title, async () => {
      const fx = await factory();
      try {
        await fn(fx.store);
      } finally {
        await fx.cleanup();
      }
    });
  };

  describe(`ContentStore conformance: ${name}`, () => {
    withStore("putBlob then info, readBlob and reader round-trip", async (s) => {
      const data = enc.encode("hello content");
      const d = await s.putBlob(data);
      assert.equal(d, sha256(data));
      const info = await s.info(d);
      assert.equal(info.digest, d);
      assert.equal(info.size, data.length);
      assert.ok(info.createdAt instanceof Date);
      assert.deepEqual(info.labels, {});
      assert.deepEqual(await s.readBlob(d), Buffer.from(data));
      assert.deepEqual(await drain(await s.reader(d)), Buffer.from(data));
    });

    withStore("ingest hashes a stream of chunks and returns digest and size", async (s) => {
      const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      async function* gen(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < big.length; i += 65536) yield big.subarray(i, i + 65536);
      }
      const res = await s.ingest(gen(), { expected: sha256(big), size: big.length });
      assert.deepEqual(res, { digest: sha256(big), size: big.length });
      assert.deepEqual(await drain(await s.reader(res.digest)), big);
    });

    withStore("a writer's bytes are invisible until commit", async (s) => {
      const w = await s.writer({ ref: "r1" });
      await w.write(enc.encode("part one, "));
      await w.write(enc.encode("part two"));
      const d = sha256("part one, part two");
      await assertCode(s.info(d), "NotFound");
      assert.equal(await w.commit({ digest: d, size: 18 }), d);
      assert.equal((await s.info(d)).size, 18);
    });

    withStore("commit with a wrong expected digest is FailedPrecondition and keeps nothing", async (s) => {
      const w = await s.writer({ ref: "bad-digest" });
      await w.write(enc.encode("actual bytes"));
      await assertCode(w.commit({ digest: sha256("other bytes") }), "FailedPrecondition", /expected digest/);
      await assertCode(s.info(sha256("actual bytes")), "NotFound");
      await assertCode(s.info(sha256("other bytes")), "NotFound");
      // The ref is free again.
      const again = await s.writer({ ref: "bad-digest" });
      await again.abort();
    });

    withStore("truncated data (short of the expected size) is FailedPrecondition", async (s) => {
      const full = "0123456789";
      await assertCode(s.ingest(chunks(full.slice(0, 6)), { expected: sha256(full), size: full.length }),
        "FailedPrecondition", /expected 10 bytes, got 6/);
      await assertCode(s.info(sha256(full.slice(0, 6))), "NotFound");
      const w = await s.writer({ ref: "short" });
      await w.write(enc.encode("abc"));
      await assertCode(w.commit({ size: 4 }), "FailedPrecondition");
      await assertCode(s.info(sha256("abc")), "NotFound");
    });

    withStore("more data than the expected size is FailedPrecondition", async (s) => {
      await assertCode(s.ingest(chunks("12345", "67890"), { size: 7 }), "FailedPrecondition", /more than/);
      await assertCode(s.info(sha256("1234567890")), "NotFound");
    });

    withStore("putBlob with a wrong expected digest is FailedPrecondition", async (s) => {
      await assertCode(s.putBlob(enc.encode("x"), sha256("y")), "FailedPrecondition");
      await assertCode(s.info(sha256("x")), "NotFound");
    });

    withStore("committing a blob that exists already is success", async (s) => {
      const d1 = await s.putBlob(enc.encode("same"));
      const d2 = await s.putBlob(enc.encode("same"), d1);
      assert.equal(d2, d1);
      const [a, b] = await Promise.all([s.ingest(chunks("twice")), s.ingest(chunks("tw", "ice"))]);
      assert.equal(a.digest, b.digest);
      assert.deepEqual(await s.readBlob(a.digest), Buffer.from("twice"));
    });

    withStore("a ref held by an open writer cannot be opened again", async (s) => {
      const w = await s.writer({ ref: "busy" });
      await assertCode(s.writer({ ref: "busy" }), "Unavailable", /busy/);
      await w.write(enc.encode("z"));
      await w.commit();
      const w2 = await s.writer({ ref: "busy" });
      await w2.abort();
    });

    withStore("abort drops the ingest; a closed writer refuses writes", async (s) => {
      const w = await s.writer({ ref: "drop" });
      await w.write(enc.encode("dropped"));
      await w.abort();
      await w.abort();
      await assertCode(s.info(sha256("dropped")), "NotFound");
      const w2 = await s.writer({ ref: "closed" });
      await w2.commit();
      await assert.rejects(w2.write(enc.encode("late")));
      await assertCode(w2.commit(), "FailedPrecondition");
    });

    withStore("a corrupted blob fails reader and readBlob with FailedPrecondition", async (s) => {
      const d = await s.putBlob(enc.encode("pristine content"));
      await chmod(s.path(d), 0o644);
      await writeFile(s.path(d), "tampered content");
      await assertCode(drain(await s.reader(d)), "FailedPrecondition", /digest/);
      await assertCode(s.readBlob(d), "FailedPrecondition", new RegExp(d));
    });

    withStore("a truncated blob on disk fails the reader", async (s) => {
      const d = await s.putBlob(Buffer.alloc(100_000, 1));
      await chmod(s.path(d), 0o644);
      await truncate(s.path(d), 10);
      await assertCode(drain(await s.reader(d)), "FailedPrecondition");
    });

    withStore("unknown digests are NotFound", async (s) => {
      const d = sha256("never stored") as Digest;
      await assertCode(s.info(d), "NotFound", new RegExp(d));
      await assertCode(s.reader(d), "NotFound");
      await assertCode(s.readBlob(d), "NotFound");
      await assertCode(s.delete(d), "NotFound");
      await assertCode(s.update(d, { a: "b" }), "NotFound");
    });

    withStore("labels merge, an empty value removes, and walk reports them", async (s) => {
      const d = await s.putBlob(enc.encode("labelled"));
      const other = await s.putBlob(enc.encode("plain"));
      await s.update(d, { a: "1", b: "2" });
      const info = await s.update(d, { b: "", c: "3" });
      assert.deepEqual(info.labels, { a: "1", c: "3" });
      assert.deepEqual((await s.info(d)).labels, { a: "1", c: "3" });
      await Promise.all([s.update(d, { x: "1" }), s.update(d, { y: "2" })]);
      assert.deepEqual((await s.info(d)).labels, { a: "1", c: "3", x: "1", y: "2" });
      const seen = new Map<string, Record<string, string>>();
      await s.walk((i) => { seen.set(i.digest, i.labels); });
      assert.deepEqual([...seen.keys()].sort(), [d, other].sort());
      assert.deepEqual(seen.get(other), {});
      assert.equal(seen.get(d)?.x, "1");
    });

    withStore("delete removes the blob and its labels", async (s) => {
      const d = await s.putBlob(enc.encode("gone soon"));
      await s.update(d, { keep: "no" });
      await s.delete(d);
      await assertCode(s.info(d), "NotFound");
      await s.putBlob(enc.encode("gone soon"));
      assert.deepEqual((await s.info(d)).labels, {});
    });

    withStore("an aborted ingest is Canceled and keeps nothing", async (s) => {
      const ac = new AbortController();
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield enc.encode("first");
        ac.abort();
        yield enc.encode("second");
      }
      await assert.rejects(s.ingest(slow(), { signal: ac.signal }), (err: unknown) => isCanceled(err));
      await assertCode(s.info(sha256("firstsecond")), "NotFound");
      await assertCode(s.info(sha256("first")), "NotFound");
    });

    withStore("an aborted reader is Canceled", async (s) => {
      const d = await s.putBlob(Buffer.alloc(4 * 1024 * 1024, 2));
      const ac = new AbortController();
      const r = await s.reader(d, { signal: ac.signal });
      const consume = (async () => {
        for await (const chunk of r) {
          assert.ok((chunk as Buffer).length > 0);
          ac.abort();
        }
      })();
      await assert.rejects(consume, (err: unknown) => isCanceled(err));
      const pre = new AbortController();
      pre.abort();
      await assert.rejects(s.reader(d, { signal: pre.signal }), (err: unknown) => isCanceled(err));
    });
  });
}
