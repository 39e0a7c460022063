import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { FileActionSchema, type FileAction } from "../gen/pb/ops_pb.js";
import { directWriteDir } from "./direct-write.js";

function copyTo(dest: string, owner?: { name?: string; id?: number }): FileAction {
  const user = owner === undefined ? undefined
    : owner.name !== undefined ? { user: { case: "byName" as const, value: { name: owner.name, input: 0n } } }
      : { user: { case: "byID" as const, value: owner.id ?? 0 } };
  return create(FileActionSchema, {
    action: { case: "copy", value: { src: "/", dest, ...(user ? { owner: { user } } : {}) } },
  });
}

test("a copy to a path no layer has writes into the upper dir; anything else goes through the mount", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-direct-write-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const [upper, l1, l2] = ["upper", "l1", "l2"].map((d) => join(root, d));
  for (const d of [upper, join(l1, "etc"), l2]) await mkdir(d, { recursive: true });
  await writeFile(join(l2, "app"), ""); // stands for a whiteout or any entry: the name is taken
  await mkdir(join(upper, "made-here"));
  const overlay = [{ type: "overlay", source: "overlay", options: [`lowerdir=${l1}:${l2}`, `upperdir=${upper}`, `workdir=${join(root, "work")}`, "index=off"] }];

  assert.equal(await directWriteDir(copyTo("/ctx"), overlay), upper);
  assert.equal(await directWriteDir(copyTo("ctx/sub/"), overlay), upper);
  assert.equal(await directWriteDir(copyTo("/x/../ctx"), overlay), upper);
  assert.equal(await directWriteDir(copyTo("/ctx", { id: 1000 }), overlay), upper);
  assert.equal(await directWriteDir(copyTo("/etc/new"), overlay), undefined, "a lower layer has /etc");
  assert.equal(await directWriteDir(copyTo("/app/x"), overlay), undefined, "a deeper lower layer has /app");
  assert.equal(await directWriteDir(copyTo("/made-here"), overlay), undefined, "the upper layer has it already");
  assert.equal(await directWriteDir(copyTo("/"), overlay), undefined, "the root merges with every layer");
  assert.equal(await directWriteDir(copyTo("/ctx", { name: "app" }), overlay), undefined, "names are looked up in the merged view");

  const rw = [{ type: "bind", source: upper, options: ["rbind", "rw"] }];
  assert.equal(await directWriteDir(copyTo("/made-here"), rw), upper, "a lone writable layer is the whole view");
  assert.equal(await directWriteDir(copyTo("/ctx"), [{ type: "bind", source: upper, options: ["rbind", "ro"] }]), undefined);
  const mkdirAction = create(FileActionSchema, { action: { case: "mkdir", value: { path: "/ctx" } } });
  assert.equal(await directWriteDir(mkdirAction, overlay), undefined, "only copies");
});

test("a name taken only deep in a long chain is still found, and a free one is free", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "gantry-direct-write-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const lowers = Array.from({ length: 11 }, (_, i) => join(root, `l${i}`));
  for (const d of [join(root, "upper"), ...lowers]) await mkdir(d, { recursive: true });
  await mkdir(join(lowers[10], "parts"));
  const overlay = [{ type: "overlay", source: "overlay", options: [`lowerdir=${lowers.join(":")}`, `upperdir=${join(root, "upper")}`, `workdir=${join(root, "work")}`] }];
  assert.equal(await directWriteDir(copyTo("/parts/"), overlay), undefined);
  assert.equal(await directWriteDir(copyTo("/other"), overlay), join(root, "upper"));
});
