import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openLocalContentStore, type LocalContentStore } from "../content/local-content-store.js";
import { MediaType } from "../oci/media-types.js";
import type { Manifest } from "../oci/types.js";
import type { Digest } from "../util/digest.js";
import { codeOf, isInvalidArgument } from "../util/errors.js";
import { createImageExporter } from "./image-exporter.js";
import { testExportSource } from "./testing/overlay-export-source.js";

let root: string;
let store: LocalContentStore;
let source: ReturnType<typeof testExportSource>;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "image-exporter-"));
  store = await openLocalContentStore(join(root, "content"));
  await mkdir(join(root, "l1"));
  await writeFile(join(root, "l1/hello"), "hello\n");
  source = testExportSource({ layers: [{ path: join(root, "l1") }], rootfs: root });
});
after(() => rm(root, { recursive: true, force: true }));

async function rejectsWith(attrs: Record<string, string>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(createImageExporter({ store }).resolve(attrs), (err: unknown) => {
    assert.equal(codeOf(err), code);
    assert.match((err as Error).message, pattern);
    return true;
  });
}

test("resolve checks the image exporter's attrs", async () => {
  await rejectsWith({ push: "true" }, "InvalidArgument", /push=true needs a name/);
  await rejectsWith({ name: "a/b:1", compression: "zstd" }, "InvalidArgument", /oci-mediatypes=false.*image exporter's default/);
  await rejectsWith({ name: "a/b:1", dest: "/tmp/x" }, "InvalidArgument", /Unknown attr "dest"/);
  await rejectsWith({ name: "a/b:1", push: "maybe" }, "InvalidArgument", /push/);
  await assert.rejects(createImageExporter({ store }).resolve({ "no-such": "1" }), isInvalidArgument);
  const ok = await createImageExporter({ store }).resolve({
    name: "a/b:1", "push-by-digest": "false", "registry.insecure": "true", "name-canonical": "true",
    store: "true", unpack: "true", compression: "zstd", "oci-mediatypes": "true",
  });
  assert.equal(ok.type, "image");
});

test("without push it assembles a Docker-typed image and reports digests and names", async () => {
  const lines: string[] = [];
  const progress = { digest: "x", log: () => undefined, status: () => undefined, warn: () => undefined, statusDone: (id: string) => lines.push(id) };
  const inst = await createImageExporter({ store }).resolve({ name: "localhost:5000/a/b:1", "name-canonical": "true", unpack: "true" });
  const res = await inst.export(source, { progress });
  assert.equal(res.finalize, undefined, "nothing to push");
  const digest = res.response["containerimage.digest"] as Digest;
  const manifest = JSON.parse((await store.readBlob(digest)).toString("utf8")) as Manifest;
  assert.equal(manifest.mediaType, MediaType.dockerManifest);
  assert.equal(res.response["containerimage.config.digest"], manifest.config.digest);
  assert.equal(res.response["image.name"], `localhost:5000/a/b:1,localhost:5000/a/b@${digest}`);
  assert.ok(lines.includes(`exporting manifest ${digest}`));
  assert.ok(lines.includes("naming to localhost:5000/a/b:1"));
  assert.ok(lines.some((l) => l.startsWith("unpack=true ignored")));

  const dangling = await (await createImageExporter({ store }).resolve({ "dangling-name-prefix": "dangling" })).export(source);
  assert.equal(dangling.response["image.name"], `dangling@${dangling.response["containerimage.digest"]}`);
});
