import assert from "node:assert/strict";
import { test } from "node:test";
import type { SourceOp } from "../gen/pb/ops_pb.js";
import { GantryError } from "../util/errors.js";
import { loadDefinition } from "./definition.js";
import { normalizeImageRef } from "./image-ref.js";
import { git, http, image, local, marshalDefinition, type State } from "./state.js";

function sourceOf(st: State, opts = {}): { src: SourceOp; caps: Record<string, boolean>; hasPlatform: boolean } {
  const def = loadDefinition(marshalDefinition(st, opts));
  const e = def.entries[0];
  assert.ok(e.op.op.case === "source");
  return { src: e.op.op.value, caps: def.metadata.get(e.digest)?.caps ?? {}, hasPlatform: e.op.platform !== undefined };
}

test("image references are normalised like docker's", () => {
  const cases: [string, string][] = [
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["user/app", "docker.io/user/app:latest"],
    ["index.docker.io/library/alpine", "docker.io/library/alpine:latest"],
    ["localhost:5000/cf/busybox:1", "localhost:5000/cf/busybox:1"],
    ["localhost/x", "localhost/x:latest"],
    ["ghcr.io/o/r@sha256:" + "a".repeat(64), "ghcr.io/o/r@sha256:" + "a".repeat(64)],
    ["r:t@sha256:" + "b".repeat(64), "docker.io/library/r:t@sha256:" + "b".repeat(64)],
  ];
  for (const [input, want] of cases) assert.equal(normalizeImageRef(input), want, input);
  for (const bad of ["UPPER", "a".repeat(64), "x:bad tag", "x@sha256:short"]) {
    assert.throws(() => normalizeImageRef(bad), (e: unknown) => e instanceof GantryError && e.code === "InvalidArgument"
      && e.message.includes(bad), bad);
  }
});

test("image sources carry a platform and their attrs", () => {
  const { src, caps, hasPlatform } = sourceOf(image("busybox", { resolveMode: "pull", layerLimit: 2 }));
  assert.equal(src.identifier, "docker-image://docker.io/library/busybox:latest");
  assert.deepEqual(src.attrs, { "image.resolvemode": "pull", "image.layerlimit": "2" });
  assert.ok(hasPlatform);
  assert.deepEqual(caps, { "source.image": true, "source.image.resolvemode": true, "source.image.layerlimit": true });
});

test("local sources get JSON pattern attrs and a unique id", () => {
  const { src, caps, hasPlatform } = sourceOf(local("context", {
    include: ["a", "b/*"], exclude: ["*.tmp"], followPaths: ["a"], sharedKeyHint: "ctx",
  }), { localUniqueId: "u1" });
  assert.equal(src.identifier, "local://context");
  assert.deepEqual(src.attrs, {
    "local.includepattern": '["a","b/*"]', "local.excludepatterns": '["*.tmp"]', "local.followpaths": '["a"]',
    "local.sharedkeyhint": "ctx", "local.unique": "u1",
  });
  assert.equal(hasPlatform, false);
  assert.equal(caps["source.local.unique"], true);
  const withSession = sourceOf(local("context", { sessionId: "s" })).src.attrs;
  assert.deepEqual(withSession, { "local.session": "s" });
  const random = sourceOf(local("context")).src.attrs["local.unique"];
  assert.match(random ?? "", /^[0-9a-z]{25}$/);
});

test("git sources are named git://host/path#ref:subdir", () => {
  const https = sourceOf(git("https://github.com/moby/buildkit.git", "v0.11.6", { subdir: "docs" })).src;
  assert.equal(https.identifier, "git://github.com/moby/buildkit.git#v0.11.6:docs");
  assert.equal(https.attrs["git.fullurl"], "https://github.com/moby/buildkit.git");
  assert.equal(https.attrs["git.authtokensecret"], "GIT_AUTH_TOKEN");
  const ssh = sourceOf(git("git@github.com:moby/buildkit.git")).src;
  assert.equal(ssh.identifier, "git://github.com/moby/buildkit.git");
  assert.equal(ssh.attrs["git.mountsshsock"], "default");
  assert.equal(sourceOf(git("github.com/o/r")).src.attrs["git.fullurl"], "https://github.com/o/r");
  assert.throws(() => git("ftp://host/repo"), (e: unknown) => e instanceof GantryError && e.code === "InvalidArgument");
});

test("http sources keep the URL as identifier", () => {
  const { src, caps } = sourceOf(http("https://example.com/f.tgz", {
    checksum: "sha256:" + "c".repeat(64), filename: "f.tgz", chmod: 0o755, uid: 1, gid: 2,
  }));
  assert.equal(src.identifier, "https://example.com/f.tgz");
  assert.deepEqual(src.attrs, {
    "http.checksum": "sha256:" + "c".repeat(64), "http.filename": "f.tgz", "http.perm": "0755", "http.uid": "1", "http.gid": "2",
  });
  assert.equal(caps["soruce.http.uidgid"], true);
});

test("withImageConfig applies env, dir and platform and keeps the config", () => {
  const config = { architecture: "arm", os: "linux", variant: "v7", config: { Env: ["PATH=/bin", "EMPTY"], WorkingDir: "/srv" } };
  const st = image("busybox").withImageConfig(config);
  assert.deepEqual(st.envList(), [["PATH", "/bin"], ["EMPTY", ""]]);
  assert.equal(st.getDir(), "/srv");
  assert.deepEqual(st.getPlatform(), { architecture: "arm", os: "linux", variant: "v7" });
  assert.deepEqual(JSON.parse(new TextDecoder().decode(st.imageConfig())), config);
  assert.throws(() => st.withImageConfig("{"), (e: unknown) => e instanceof GantryError && e.code === "InvalidArgument");
});
