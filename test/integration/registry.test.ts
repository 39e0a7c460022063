// The registry client against the real loopback registry (scripts/start-registry.sh): resolve and pull the
// conformance base images into a temporary content store, and check what arrived byte for byte.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalContentStore } from "../../src/content/local-content-store.js";
import { MediaType } from "../../src/oci/media-types.js";
import { pushBlob } from "../../src/registry/blob-upload.js";
import { nodeHttpTransport, type HttpTransport } from "../../src/registry/http-transport.js";
import { pullImage } from "../../src/registry/image-puller.js";
import { RegistryClient } from "../../src/registry/registry-client.js";
import { RegistryError } from "../../src/registry/registry-error.js";
import { Resolver } from "../../src/registry/resolver.js";
import { codeOf } from "../../src/util/errors.js";
import { requires } from "./helpers/requires.js";

async function fileDigest(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha256:${h.digest("hex")}`;
}

async function registryDigest(repo: string, tag: string): Promise<string | null> {
  const res = await fetch(`http://127.0.0.1:5000/v2/${repo}/manifests/${tag}`, {
    method: "HEAD", headers: { Accept: `${MediaType.ociManifest}, ${MediaType.ociIndex}, ${MediaType.dockerManifest}` },
  });
  return res.headers.get("docker-content-digest");
}

for (const [repo, layers] of [["cf/busybox", 1], ["cf/config", 2]] as const) {
  test(`resolve and pull localhost:5000/${repo}:1 into a content store`, async (t) => {
    if (!requires(t, { registry: true })) return;
    const root = await mkdtemp(join(tmpdir(), "gantry-registry-it-"));
    try {
      const store = await openLocalContentStore(root);
      const client = new RegistryClient();
      const resolved = await new Resolver({ client, contentStore: store }).resolve(`localhost:5000/${repo}:1`);
      const expected = await registryDigest(repo, "1");
      assert.ok(expected);
      assert.equal(resolved.digest, expected);
      assert.equal(resolved.name, `localhost:5000/${repo}:1@${expected}`);
      assert.equal(resolved.manifest.layers.length, layers);
      assert.equal(resolved.config.rootfs.diff_ids.length, layers);
      assert.equal(resolved.config.os, "linux");

      const progress = new Map<string, number>();
      const result = await pullImage(client, resolved, {
        contentStore: store, onProgress: (d, cur) => progress.set(d, cur),
      });
      assert.equal(result.fetched.length, layers);
      for (const desc of [resolved.manifestDescriptor, resolved.configDescriptor, ...resolved.manifest.layers]) {
        const path = store.path(desc.digest);
        assert.equal((await stat(path)).size, desc.size, `size of ${desc.digest}`);
        assert.equal(await fileDigest(path), desc.digest);
      }
      for (const l of resolved.manifest.layers) assert.equal(progress.get(l.digest), l.size);

      const again = await pullImage(client, resolved, { contentStore: store });
      assert.equal(again.fetched.length, 0);
      assert.equal(again.present.length, layers);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}

test("an unknown image on the real registry is NotFound with a clear message", async (t) => {
  if (!requires(t, { registry: true })) return;
  const resolver = new Resolver({ client: new RegistryClient() });
  for (const name of ["localhost:5000/x:1", "localhost:5000/cf/busybox:no-such-tag"]) {
    await assert.rejects(resolver.resolve(name), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(codeOf(err), "NotFound");
      assert.equal(err.status, 404);
      assert.ok(err.message.startsWith(`Cannot resolve image ${name}: not found`), err.message);
      return true;
    });
  }
});

test("a blob over the chunk size goes up in PATCH chunks the registry reassembles", async (t) => {
  if (!requires(t, { registry: true })) return;
  const root = await mkdtemp(join(tmpdir(), "gantry-chunked-"));
  try {
    const store = await openLocalContentStore(root);
    // 3.5 MiB of random bytes: four chunks of 1 MiB, the last one short.
    const data = randomBytes(3.5 * 1024 * 1024);
    const digest = await store.putBlob(data);
    const methods: string[] = [];
    const send = nodeHttpTransport();
    const counting: HttpTransport = (url, req) => {
      methods.push(req.method ?? "GET");
      return send(url, req);
    };
    const client = new RegistryClient({ transport: counting });
    const target = { registry: "localhost:5000", repository: `test/chunked-${process.pid}` };
    const blob = { mediaType: "application/octet-stream", digest, size: data.length };
    assert.equal(await pushBlob({ client, target, blob, contentStore: store, chunkSize: 1024 * 1024 }), "uploaded");
    assert.equal(methods.filter((m) => m === "PATCH").length, 4, methods.join(" "));
    const res = await fetch(`http://127.0.0.1:5000/v2/${target.repository}/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(`sha256:${createHash("sha256").update(Buffer.from(await res.arrayBuffer())).digest("hex")}`, digest);
    // Below the chunk size the same blob would be one PUT: and now it is simply found.
    assert.equal(await pushBlob({ client, target, blob, contentStore: store }), "exists");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
