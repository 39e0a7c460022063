import assert from "node:assert/strict";
import { test } from "node:test";
import { sha256, type Digest } from "../../util/digest.js";
import { buildCacheConfig, blobDescriptor, buildInlineRecords, parseCacheChains, type ExportBlob } from "./cache-config.js";
import { inlineCacheChains, inlineCacheValue } from "./inline-cache.js";
import { parseCacheExport, parseCacheImport } from "./cache-attrs.js";

function blob(name: string): ExportBlob {
  return { digest: sha256(name), size: name.length, diffId: sha256(`diff-${name}`), mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" };
}

test("a built config parses back to the same key → chain map; shared layers are stored once", () => {
  const [a, b, c] = [blob("a"), blob("b"), blob("c")];
  const now = new Date(0);
  const { config, blobs } = buildCacheConfig([
    { key: "k-final", deps: [{ key: "k-base" }, { key: "content", selector: "/src" }], chain: [a, b], createdAt: now },
    { key: "k-base", deps: [], chain: [a], createdAt: now },
    { key: "k-other", deps: [{ key: "k-base" }], chain: [a, c], createdAt: now },
    { key: "k-nores", deps: [], createdAt: now },
  ], [a, b]);
  assert.equal(config.layers?.length, 3);
  assert.deepEqual(config.layers?.map((l) => l.parent), [-1, undefined, undefined]); // Go omits parent 0
  assert.equal(blobs.length, 3);
  const final = config.records?.find((r) => r.digest === "k-final");
  assert.deepEqual(final?.inputs?.map((i) => [config.records?.[i[0].link].digest, i[0].selector]), [["k-base", undefined], ["content", "/src"]]);
  const chains = parseCacheChains(config, new Map(blobs.map((x) => [x.digest, blobDescriptor(x)])), "test");
  assert.deepEqual(chains.get("k-final")?.layers.map((l) => l.digest), [a.digest, b.digest]);
  assert.deepEqual(chains.get("k-other")?.diffIds, [a.diffId, c.diffId]);
  assert.deepEqual(chains.get("k-base")?.layers.map((l) => l.digest), [a.digest]);
  assert.equal(chains.has("k-nores"), false);
  assert.equal(chains.has("content"), false);
  // A result whose blob the manifest does not list is skipped.
  assert.equal(parseCacheChains(config, new Map([[a.digest, blobDescriptor(a)]]), "test").has("k-final"), false);
});

test("looping or out-of-range layer indexes are FailedPrecondition", () => {
  const cfg = { layers: [{ blob: "sha256:x", parent: 0 }], records: [{ digest: "k", layers: [{ layer: 0, createdAt: "" }] }] };
  assert.throws(() => parseCacheChains(cfg, new Map(), "src"), /its own ancestor/);
  const cfg2 = { layers: [], records: [{ digest: "k", layers: [{ layer: 3, createdAt: "" }] }] };
  assert.throws(() => parseCacheChains(cfg2, new Map(), "src"), /out of range/);
});

test("inline records name image layers by position", () => {
  const now = new Date(0);
  const records = buildInlineRecords([
    { key: "top", deps: [{ key: "base" }], createdAt: now, depth: 2 },
    { key: "base", deps: [], createdAt: now, depth: 1 },
  ]);
  const layers = [blob("a"), blob("b")].map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size }));
  const diffIds = [sha256("d1"), sha256("d2")] as Digest[];
  const chains = inlineCacheChains({ "moby.buildkit.cache.v0": inlineCacheValue(records) }, layers, diffIds, "img");
  assert.deepEqual(chains.get("top")?.diffIds, diffIds);
  assert.deepEqual(chains.get("base")?.layers.map((l) => l.digest), [layers[0].digest]);
  assert.equal(inlineCacheChains({}, layers, diffIds, "img").size, 0);
});

test("cache attrs: defaults, and errors that name the flag", () => {
  const e = parseCacheExport({ type: "local", attrs: { dest: "/d" } });
  assert.deepEqual(e, { type: "local", dest: "/d", tag: "latest", mode: "min", compression: "gzip", compressionLevel: undefined,
    ociTypes: true, imageManifest: true, ignoreError: false });
  assert.equal(parseCacheExport({ type: "registry", attrs: { ref: "localhost:5000/c:1", mode: "max" } }).mode, "max");
  assert.throws(() => parseCacheExport({ type: "local", attrs: {} }), { code: "InvalidArgument", message: /--export-cache type=local: dest=/ });
  assert.throws(() => parseCacheImport({ type: "local", attrs: {} }), { code: "InvalidArgument", message: /--import-cache type=local: src=/ });
  assert.throws(() => parseCacheExport({ type: "registry", attrs: {} }), { code: "InvalidArgument", message: /--export-cache type=registry: ref=/ });
  assert.throws(() => parseCacheExport({ type: "local", attrs: { dest: "/d", mode: "all" } }), { code: "InvalidArgument", message: /--export-cache.*unknown mode "all"/ });
  assert.throws(() => parseCacheExport({ type: "nope", attrs: {} }), { code: "InvalidArgument", message: /--export-cache: unknown cache type "nope"/ });
  assert.throws(() => parseCacheImport({ type: "s3", attrs: {} }), { code: "Unimplemented", message: /--import-cache type=s3/ });
  assert.throws(() => parseCacheImport({ type: "inline", attrs: {} }), { code: "InvalidArgument" });
  assert.throws(() => parseCacheExport({ type: "local", attrs: { dest: "/d", mod: "max" } }), { code: "InvalidArgument", message: /unknown attr "mod"/ });
});
