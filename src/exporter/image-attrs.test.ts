import assert from "node:assert/strict";
import { test } from "node:test";
import { isInvalidArgument } from "../util/errors.js";
import { annotationsFor, parseImageAttrs } from "./image-attrs.js";

test("defaults differ by variant: OCI types for oci, Docker types for docker", () => {
  assert.equal(parseImageAttrs("oci", {}).ociTypes, true);
  assert.equal(parseImageAttrs("docker", {}).ociTypes, false);
  assert.equal(parseImageAttrs("docker", { "oci-mediatypes": "true" }).ociTypes, true);
  assert.equal(parseImageAttrs("oci", {}).compression, "gzip");
  assert.equal(parseImageAttrs("oci", {}).tar, true);
});

test("values are parsed", () => {
  const a = parseImageAttrs("oci", {
    name: "foo", compression: "zstd", "compression-level": "9", "force-compression": "", tar: "false", dest: "/x",
    "source-date-epoch": "10", "rewrite-timestamp": "1", buildinfo: "false", "annotation.a": "1",
    "annotation-manifest-descriptor.b": "2", "annotation[linux/amd64].c": "3",
  });
  assert.deepEqual(a.names, ["docker.io/library/foo:latest"]);
  assert.equal(a.compression, "zstd");
  assert.equal(a.compressionLevel, 9);
  assert.equal(a.forceCompression, true);
  assert.equal(a.tar, false);
  assert.equal(a.epoch?.getTime(), 10_000);
  assert.equal(a.rewriteTimestamp, true);
  assert.deepEqual(annotationsFor(a.manifestAnnotations, { os: "linux", architecture: "amd64" }), { a: "1", c: "3" });
  assert.deepEqual(annotationsFor(a.descriptorAnnotations, { os: "linux", architecture: "amd64" }), { b: "2" });
  assert.throws(() => annotationsFor(a.manifestAnnotations, { os: "linux", architecture: "arm64", variant: "v8" }), /linux\/amd64/);
});

test("bad attrs are InvalidArgument naming the attr", () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ bogus: "1" }, /bogus/],
    [{ compression: "lz4" }, /compression/],
    [{ "compression-level": "x" }, /compression-level/],
    [{ "compression-level": "12" }, /compression-level/],
    [{ tar: "maybe" }, /tar/],
    [{ "oci-mediatypes": "false", compression: "zstd" }, /oci-mediatypes/],
    [{ "annotation-index[linux/amd64].k": "v" }, /annotation-index\[linux\/amd64\]\.k/],
    [{ "source-date-epoch": "soon" }, /source-date-epoch/],
  ];
  for (const [attrs, re] of bad) {
    assert.throws(() => parseImageAttrs("oci", attrs), (e: unknown) => isInvalidArgument(e) && re.test(String(e)), JSON.stringify(attrs));
  }
  assert.throws(() => parseImageAttrs("docker", { compression: "zstd" }), /oci-mediatypes/);
  assert.throws(() => parseImageAttrs("docker", { "annotation-manifest-descriptor.k": "v" }), /oci-mediatypes=false/);
});

test("compression=estargz is gzip in eStargz layout, with OCI media types", () => {
  const a = parseImageAttrs("docker", { compression: "estargz", "oci-mediatypes": "false" });
  assert.equal(a.compression, "gzip");
  assert.equal(a.estargz, true);
  assert.equal(a.ociTypes, true, "upstream turns OCI media types on for estargz");
  assert.equal(parseImageAttrs("oci", { compression: "gzip" }).estargz, false);
  assert.throws(() => parseImageAttrs("oci", { compression: "estargz", "compression-level": "12" }), /compression-level/);
  assert.throws(() => parseImageAttrs("oci", { compression: "lz4" }), /estargz/);
});
