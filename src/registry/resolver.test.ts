import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openLocalContentStore } from "../content/local-content-store.js";
import { MediaType } from "../oci/media-types.js";
import { sha256 } from "../util/digest.js";
import { codeOf } from "../util/errors.js";
import { RegistryClient } from "./registry-client.js";
import { Resolver } from "./resolver.js";
import { FakeRegistry, type FakeImage } from "./testing/fake-registry.js";

let reg: FakeRegistry;
let amd: FakeImage;
let arm: FakeImage;
let dir: string;

before(async () => {
  reg = await FakeRegistry.start();
  dir = await mkdtemp(join(tmpdir(), "gantry-resolver-"));
  amd = reg.addImage("multi", [], [Buffer.from("amd-layer")]);
  arm = reg.addImage("multi", [], [Buffer.from("arm-layer")], { os: "linux", architecture: "arm64", variant: "v8" });
  reg.addIndex("multi", ["1"], [
    { manifest: arm.manifest, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    { manifest: amd.manifest, platform: { os: "linux", architecture: "amd64" } },
  ]);
  reg.addImage("single", ["1"], [Buffer.from("a"), Buffer.from("b")]);
});
after(async () => {
  await reg.close();
  await rm(dir, { recursive: true, force: true });
});

const resolver = (): Resolver => new Resolver({ client: new RegistryClient({ retry: { baseDelayMs: 1, maxDelayMs: 5 } }) });

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal(codeOf(err), code, String(err));
    assert.match((err as Error).message, message);
    return true;
  });
}

test("an index is narrowed to the wanted platform; the name pins the index digest", async () => {
  const store = await openLocalContentStore(join(dir, "store1"));
  const r = await new Resolver({ client: new RegistryClient(), contentStore: store })
    .resolve(`${reg.host}/multi:1`, { platform: { os: "linux", architecture: "arm64" } });
  assert.deepEqual(r.manifestDescriptor, { mediaType: MediaType.ociManifest, digest: arm.manifest.digest, size: arm.manifest.size });
  assert.equal(r.configDescriptor.digest, arm.config.digest);
  assert.equal(r.config.architecture, "arm64");
  assert.ok(r.indexDescriptor);
  assert.equal(r.digest, r.indexDescriptor.digest);
  assert.equal(r.name, `${reg.host}/multi:1@${r.digest}`);
  assert.equal(r.ref.tag, "1");
  for (const d of [r.digest, arm.manifest.digest, arm.config.digest]) assert.equal((await store.info(d)).digest, d);
  assert.deepEqual(await store.readBlob(r.digest), r.raw.index);

  const amdR = await resolver().resolve(`${reg.host}/multi:1`, { platform: { os: "linux", architecture: "amd64" } });
  assert.equal(amdR.manifestDescriptor.digest, amd.manifest.digest);
  assert.equal(amdR.digest, r.digest);
});

test("no manifest for the platform is NotFound listing what there is", async () => {
  await rejects(resolver().resolve(`${reg.host}/multi:1`, { platform: { os: "linux", architecture: "s390x" } }),
    "NotFound", /no manifest for platform linux\/s390x \(the image has linux\/arm64\/v8, linux\/amd64\)/);
});

test("a single manifest resolves with its own digest; resolving by digest works", async () => {
  const r = await resolver().resolve(`${reg.host}/single:1`);
  assert.equal(r.indexDescriptor, undefined);
  assert.equal(r.digest, r.manifestDescriptor.digest);
  assert.equal(r.manifest.layers.length, 2);
  assert.deepEqual(r.config.config?.Env, ["A=1"]);
  const byDigest = await resolver().resolve(`${reg.host}/single@${r.digest}`);
  assert.equal(byDigest.name, `${reg.host}/single@${r.digest}`);
});

test("unknown repositories, tags and digests are NotFound with a clear message", async () => {
  await rejects(resolver().resolve(`${reg.host}/nope:1`), "NotFound",
    new RegExp(`^Cannot resolve image ${reg.host}/nope:1: not found \\(MANIFEST_UNKNOWN: manifest unknown\\)\\.$`));
  await rejects(resolver().resolve(`${reg.host}/single@${sha256("x")}`), "NotFound", /not found/);
});

test("a manifest that does not match the pinned digest is FailedPrecondition", async () => {
  const other = reg.manifests.get("single:1");
  assert.ok(other);
  const pinned = sha256("something else");
  reg.manifests.set(`single:${pinned}`, other);
  await rejects(resolver().resolve(`${reg.host}/single@${pinned}`), "FailedPrecondition",
    /the registry sent a manifest with digest sha256:[0-9a-f]{64} for sha256:/);
});

test("a wrong Docker-Content-Digest header is FailedPrecondition", async () => {
  reg.hooks.push((req, res) => {
    if (!req.url?.endsWith("/single/manifests/1")) return false;
    const m = reg.manifests.get("single:1");
    res.writeHead(200, { "Content-Type": m?.mediaType, "Docker-Content-Digest": sha256("lie") }).end(m?.body);
    return true;
  });
  try {
    await rejects(resolver().resolve(`${reg.host}/single:1`), "FailedPrecondition", /registry announced/);
  } finally {
    reg.hooks.length = 0;
  }
});

test("a config blob with the wrong bytes is FailedPrecondition", async () => {
  const cfg = reg.blobs.get(amd.config.digest);
  assert.ok(cfg);
  reg.blobs.set(amd.config.digest, Buffer.from(cfg.toString().replace("A=1", "A=2")));
  try {
    await rejects(resolver().resolve(`${reg.host}/multi:1`, { platform: { os: "linux", architecture: "amd64" } }),
      "FailedPrecondition", new RegExp(`the config blob ${amd.config.digest} arrived as \\d+ bytes with digest`));
  } finally {
    reg.blobs.set(amd.config.digest, cfg);
  }
});

test("invalid documents and schema 1 are refused", async () => {
  reg.putManifest("bad", ["nolayers"], { schemaVersion: 2, config: amd.config }, MediaType.ociManifest);
  await rejects(resolver().resolve(`${reg.host}/bad:nolayers`), "FailedPrecondition", /no layers list/);
  reg.putManifest("bad", ["s1"], { schemaVersion: 1, name: "x" }, "application/vnd.docker.distribution.manifest.v1+prettyjws");
  await rejects(resolver().resolve(`${reg.host}/bad:s1`), "Unimplemented", /schema 1/);
  reg.putManifest("bad", ["baddigest"], { schemaVersion: 2, config: { ...amd.config, digest: "md5:x" }, layers: [] },
    MediaType.ociManifest);
  await rejects(resolver().resolve(`${reg.host}/bad:baddigest`), "FailedPrecondition", /config has no valid sha256 digest/);
});

test("an oversized manifest is refused without reading it all", async () => {
  reg.hooks.push((req, res) => {
    if (!req.url?.endsWith("/huge/manifests/1")) return false;
    res.writeHead(200, { "Content-Type": MediaType.ociManifest });
    res.end(Buffer.alloc(5 * 1024 * 1024, 32));
    return true;
  });
  try {
    await rejects(resolver().resolve(`${reg.host}/huge:1`), "FailedPrecondition", /more than 4194304 bytes/);
  } finally {
    reg.hooks.length = 0;
  }
});
