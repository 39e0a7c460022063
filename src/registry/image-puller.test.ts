import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openLocalContentStore, type LocalContentStore } from "../content/local-content-store.js";
import { sha256, type Digest } from "../util/digest.js";
import { codeOf, isNotFound } from "../util/errors.js";
import { pullImage } from "./image-puller.js";
import { RegistryClient } from "./registry-client.js";
import { Resolver, type ResolvedImage } from "./resolver.js";
import { FakeRegistry, type FakeImage } from "./testing/fake-registry.js";

let reg: FakeRegistry;
let img: FakeImage;
let dir: string;
let n = 0;
const client = new RegistryClient({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });

before(async () => {
  reg = await FakeRegistry.start();
  dir = await mkdtemp(join(tmpdir(), "gantry-puller-"));
  img = reg.addImage("app", ["1"], [Buffer.alloc(300_000, 1), Buffer.from("small layer"), Buffer.alloc(200_000, 3)]);
});
after(async () => {
  await reg.close();
  await rm(dir, { recursive: true, force: true });
});

async function freshStore(): Promise<LocalContentStore> {
  return openLocalContentStore(join(dir, `store-${n++}`));
}

async function resolve(name = "app:1"): Promise<ResolvedImage> {
  return new Resolver({ client }).resolve(`${reg.host}/${name}`);
}

async function absent(store: LocalContentStore, d: Digest): Promise<boolean> {
  try {
    await store.info(d);
    return false;
  } catch (err) {
    return isNotFound(err);
  }
}

/** Serves the blob `digest` with `send` instead of the stored bytes. */
function overrideBlob(digest: Digest, send: (res: import("node:http").ServerResponse, data: Buffer) => void, times = Infinity): void {
  let left = times;
  reg.hooks.push((req, res) => {
    if (!req.url?.endsWith(`/blobs/${digest}`) || left <= 0) return false;
    left--;
    send(res, reg.blobs.get(digest) ?? Buffer.alloc(0));
    return true;
  });
}

function reset(): void {
  reg.hooks.length = 0;
  reg.log.length = 0;
}

test("pull stores every blob with matching digest and size, reporting progress", async () => {
  reset();
  const store = await freshStore();
  const resolved = await resolve();
  const progress = new Map<string, Array<[number, number]>>();
  const result = await pullImage(client, resolved, {
    contentStore: store,
    onProgress: (d, cur, total) => progress.set(d, [...(progress.get(d) ?? []), [cur, total]]),
  });
  assert.deepEqual(result.fetched.sort(), img.layers.map((l) => l.digest).sort());
  assert.deepEqual(result.present, []);
  for (const [i, l] of img.layers.entries()) {
    const info = await store.info(l.digest);
    assert.equal(info.size, l.size);
    assert.deepEqual(await store.readBlob(l.digest), img.layerData[i]);
    const seen = progress.get(l.digest) ?? [];
    assert.deepEqual(seen[0], [0, l.size]);
    assert.deepEqual(seen.at(-1), [l.size, l.size]);
  }
  assert.equal((await store.info(img.manifest.digest)).size, img.manifest.size);
  assert.equal((await store.info(img.config.digest)).size, img.config.size);
});

test("blobs already in the store are not downloaded again", async () => {
  reset();
  const store = await freshStore();
  const resolved = await resolve();
  await store.putBlob(img.layerData[1], img.layers[1].digest);
  const first = await pullImage(client, resolved, { contentStore: store });
  assert.deepEqual(first.present, [img.layers[1].digest]);
  reset();
  const again = await pullImage(client, resolved, { contentStore: store });
  assert.equal(again.fetched.length, 0);
  assert.equal(reg.log.length, 0, "no request at all");
});

test("wrong bytes of the right length are FailedPrecondition and nothing is kept", async () => {
  reset();
  const store = await freshStore();
  const bad = img.layers[0];
  overrideBlob(bad.digest, (res, data) => {
    res.writeHead(200, { "Content-Length": data.length });
    res.end(Buffer.alloc(data.length, 9));
  });
  await assert.rejects(pullImage(client, await resolve(), { contentStore: store }), (err: unknown) => {
    assert.equal(codeOf(err), "FailedPrecondition");
    assert.match((err as Error).message,
      new RegExp(`^Cannot pull layer ${bad.digest} of image ${reg.host}/app: the registry sent content that does not match the manifest \\(.*expected digest ${bad.digest}, got ${sha256(Buffer.alloc(bad.size, 9))}\\)\\.$`));
    return true;
  });
  assert.ok(await absent(store, bad.digest));
  assert.deepEqual(await readdir(join(store.root, "ingest")), []);
});

test("a body cut short (cleanly ended) is FailedPrecondition", async () => {
  reset();
  const store = await freshStore();
  const bad = img.layers[2];
  overrideBlob(bad.digest, (res, data) => {
    res.writeHead(200); // chunked: the client cannot tell the body is short until it checks the size
    res.end(data.subarray(0, 1000));
  });
  await assert.rejects(pullImage(client, await resolve(), { contentStore: store }),
    (err: unknown) => codeOf(err) === "FailedPrecondition" && /expected 200000 bytes, got 1000/.test((err as Error).message));
  assert.ok(await absent(store, bad.digest));
});

test("more bytes than the descriptor says is FailedPrecondition", async () => {
  reset();
  const store = await freshStore();
  overrideBlob(img.layers[1].digest, (res, data) => res.end(Buffer.concat([data, Buffer.from("extra")])));
  await assert.rejects(pullImage(client, await resolve(), { contentStore: store }),
    (err: unknown) => codeOf(err) === "FailedPrecondition");
});

test("a connection dropped mid-body is retried and the pull completes", async () => {
  reset();
  const store = await freshStore();
  const flaky = img.layers[0];
  overrideBlob(flaky.digest, (res, data) => {
    res.writeHead(200, { "Content-Length": data.length });
    res.write(data.subarray(0, 50_000), () => res.destroy());
  }, 1);
  const result = await pullImage(client, await resolve(), { contentStore: store });
  assert.ok(result.fetched.includes(flaky.digest));
  assert.equal((await store.info(flaky.digest)).size, flaky.size);
  assert.equal(reg.log.filter((l) => l.url.endsWith(flaky.digest)).length, 2);
});

test("a blob the registry does not have is NotFound", async () => {
  reset();
  const store = await freshStore();
  overrideBlob(img.layers[2].digest, (res) => {
    res.writeHead(404, { "Content-Type": "application/json" }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}');
  });
  await assert.rejects(pullImage(client, await resolve(), { contentStore: store }), (err: unknown) =>
    codeOf(err) === "NotFound" && /^Cannot pull layer sha256:[0-9a-f]+ of image .*: not found \(BLOB_UNKNOWN: blob unknown\)\.$/.test((err as Error).message));
});

test("downloads run in parallel up to the concurrency limit", async () => {
  reset();
  const layers = Array.from({ length: 6 }, (_, i) => Buffer.from(`parallel layer ${i}`));
  const many = reg.addImage("many", ["1"], layers);
  let inflight = 0;
  let peak = 0;
  // No answer before a second download has started: two at once is then certain with a limit of 2, however
  // slowly a loaded machine sends the second request (a timer alone could answer the first one before it).
  let twoStarted: () => void = () => undefined;
  const pair = new Promise<void>((r) => (twoStarted = r));
  const stuck = setTimeout(() => twoStarted(), 30_000); // a limit of 1 then fails below instead of hanging
  for (const l of many.layers) {
    overrideBlob(l.digest, (res, data) => {
      inflight++;
      peak = Math.max(peak, inflight);
      if (inflight >= 2) twoStarted();
      void pair.then(() => setTimeout(() => {
        inflight--;
        res.end(data);
      }, 30));
    });
  }
  const store = await freshStore();
  const result = await pullImage(client, await resolve("many:1"), { contentStore: store, concurrency: 2 });
  clearTimeout(stuck);
  assert.equal(result.fetched.length, 6);
  assert.equal(peak, 2);
});

test("an abort mid-download is Canceled and keeps nothing", async () => {
  reset();
  const store = await freshStore();
  const slow = img.layers[0];
  overrideBlob(slow.digest, (res, data) => {
    res.writeHead(200, { "Content-Length": data.length });
    res.write(data.subarray(0, 1000)); // then stall
  });
  const ac = new AbortController();
  const p = pullImage(client, await resolve(), {
    contentStore: store, signal: ac.signal,
    onProgress: (d, cur) => { if (d === slow.digest && cur === 0) setTimeout(() => ac.abort(), 20); },
  });
  await assert.rejects(p, (err: unknown) => codeOf(err) === "Canceled");
  assert.ok(await absent(store, slow.digest));
});
