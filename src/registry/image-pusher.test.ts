import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openLocalContentStore, type LocalContentStore } from "../content/local-content-store.js";
import { MediaType } from "../oci/media-types.js";
import { parseReference } from "../oci/reference.js";
import type { Descriptor } from "../oci/types.js";
import { sha256 } from "../util/digest.js";
import { GantryError, codeOf } from "../util/errors.js";
import { DISTRIBUTION_SOURCE_LABEL } from "./distribution-source.js";
import { pushImage } from "./image-pusher.js";
import { RegistryClient } from "./registry-client.js";
import { FakeRegistry } from "./testing/fake-registry.js";

let dir: string;
let store: LocalContentStore;
let image: { manifest: Descriptor; config: Descriptor; layers: Descriptor[] };

async function put(data: Buffer, mediaType: string): Promise<Descriptor> {
  return { mediaType, digest: await store.putBlob(data), size: data.length };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gantry-pusher-"));
  store = await openLocalContentStore(join(dir, "content"));
  const layers = [await put(Buffer.alloc(200_000, 7), MediaType.ociLayerGzip), await put(Buffer.from("small"), MediaType.ociLayerGzip)];
  const config = await put(Buffer.from('{"architecture":"amd64","os":"linux"}'), MediaType.ociConfig);
  const manifest = await put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers })), MediaType.ociManifest);
  image = { manifest, config, layers };
});
after(() => rm(dir, { recursive: true, force: true }));

/** Adds upload and manifest-PUT handling to the fake; `failFirstPut` answers the first blob PUT with a 503. */
function acceptUploads(reg: FakeRegistry, opts: { failFirstPut?: boolean } = {}): void {
  let failed = !opts.failFirstPut;
  let n = 0;
  reg.hooks.push((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", `http://${reg.host}`);
    const upload = /^\/v2\/(.+)\/blobs\/uploads\/(\w*)$/.exec(url.pathname);
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (req.method === "POST" && upload) {
      const from = url.searchParams.get("from");
      const mount = url.searchParams.get("mount");
      if (from && mount && reg.blobs.has(mount)) {
        res.writeHead(201).end();
        return true;
      }
      res.writeHead(202, { Location: `/v2/${upload[1]}/blobs/uploads/u${n++}?_state=x` }).end();
      return true;
    }
    if ((req.method === "PUT" && upload) || (req.method === "PUT" && manifest)) {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => {
        const body = Buffer.concat(chunks);
        if (upload && !failed) {
          failed = true;
          res.writeHead(503).end();
          return;
        }
        if (upload) {
          assert.equal(sha256(body), url.searchParams.get("digest"), "the PUT carries the whole blob");
          reg.blobs.set(sha256(body), body);
        } else {
          reg.manifests.set(`${manifest?.[1]}:${manifest?.[2]}`, { body, mediaType: req.headers["content-type"] ?? "" });
        }
        res.writeHead(201).end();
      });
      return true;
    }
    return false;
  });
}

test("uploads missing blobs (retrying a failed PUT with a fresh body), then the manifest last", async () => {
  const reg = await FakeRegistry.start();
  try {
    acceptUploads(reg, { failFirstPut: true });
    reg.blobs.set(image.layers[1].digest, Buffer.from("small")); // already there: HEAD finds it
    const client = new RegistryClient({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    const ref = parseReference(`${reg.host}/app:1`);
    const result = await pushImage(client, { names: [ref], ...image, contentStore: store });
    assert.deepEqual(result, { uploaded: 2, mounted: 0, existed: 1 });
    assert.equal(reg.manifests.get("app:1")?.mediaType, MediaType.ociManifest);
    const puts = reg.log.filter((l) => l.method === "PUT");
    assert.match(puts[puts.length - 1].url, /\/manifests\/1$/, "the manifest goes last");
    const labels = (await store.info(image.config.digest)).labels ?? {};
    assert.equal(labels[DISTRIBUTION_SOURCE_LABEL + reg.host], "app");

    // Another repository of the same registry: the blobs are mounted, none uploaded; by digest, no tag.
    // The fake keeps one blob pool: make "other" look empty to HEAD.
    reg.hooks.unshift((req, res) => req.method === "HEAD" && (req.url ?? "").startsWith("/v2/other/blobs/") && !!res.writeHead(404).end());
    const other = parseReference(`${reg.host}/other:2`);
    const again = await pushImage(client, { names: [other], ...image, contentStore: store, byDigest: true });
    assert.deepEqual(again, { uploaded: 0, mounted: 3, existed: 0 });
    assert.ok(reg.manifests.has(`other:${image.manifest.digest}`));
    assert.ok(!reg.manifests.has("other:2"));
  } finally {
    await reg.close();
  }
});

test("a refused login fails with FailedPrecondition naming the registry and pushes nothing", async () => {
  const reg = await FakeRegistry.start({ scheme: "basic", username: "u", password: "right" });
  try {
    acceptUploads(reg);
    const client = new RegistryClient({ credentials: async () => ({ username: "u", password: "wrong" }) });
    const ref = parseReference(`${reg.host}/app:1`);
    const err = await pushImage(client, { names: [ref], ...image, contentStore: store }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof GantryError, String(err));
    assert.equal(codeOf(err), "FailedPrecondition");
    assert.ok(`${err.message} ${err.hint ?? ""}`.includes(reg.host), err.message);
    assert.deepEqual(reg.log.filter((l) => l.method === "POST" || l.method === "PUT"), []);
  } finally {
    await reg.close();
  }
});
