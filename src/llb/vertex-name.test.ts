import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { InputSchema, OpSchema } from "../gen/pb/ops_pb.js";
import { loadDefinition } from "./definition.js";
import { diff, image, local, marshalDefinition, merge, mkdir, mkfile, scratch } from "./state.js";
import { defaultVertexName, fileActionsName, vertexNames } from "./vertex-name.js";
import { vertexInfos } from "./vertex-info.js";
import { CASES, readCasePb } from "./testing/conformance.js";

test("custom names win; file ops and merges get default names", () => {
  const def = loadDefinition(readCasePb("link-merge"));
  const names = [...vertexNames(def).values()];
  assert.deepEqual(names, [
    "[src 1/2] FROM localhost:5000/cf/busybox:1@sha256:ca93dc8e7f649ba8191273c4cd696a0c3bd9cc1a0ddafc53ee06f506c243d718",
    "[src 2/2] RUN mkdir /out && echo linked > /out/f",
    "copy /out /out",
    "[stage-1 2/3] LINK COPY --link --from=src /out /out",
    "[stage-1 3/3] RUN cat /out/f > /seen",
  ]);
});

test("default names follow upstream's rules", () => {
  const base = image("busybox");
  const ctx = scratch().file(mkfile("/ctx", 0o644, "x"));
  const st = base
    .file(mkdir("/a", 0o755).mkfile("/a/f", 0o644, "hi").rm("/tmp/x").copy(ctx, "/ctx", "/b").symlink("/a/f", "/l"));
  const run = st.run({ args: ["echo", "hello", "world"] }).root();
  const m = merge([run, local("context", { include: ["Dockerfile"] })]);
  const d = diff(base, m);
  const def = loadDefinition(marshalDefinition(d));
  const names = [...vertexNames(def).values()];
  assert.deepEqual(names, [
    "docker-image://docker.io/library/busybox:latest",
    "mkfile /ctx",
    "mkdir /a, mkfile /a/f, rm /tmp/x, copy /ctx /b, symlink /l -> /a/f",
    "echo hello world",
    "local://context (Dockerfile)",
    "merge (echo hello world, local://context (Dockerfile))",
    "diff (docker-image://docker.io/library/busybox:latest) -> (merge (echo hello world, local://context (Dockerfile)))",
  ]);
});

test("diff against scratch and unknown ops", () => {
  const op = create(OpSchema, {
    inputs: [create(InputSchema, { digest: "sha256:x", index: 0n })],
    op: { case: "diff", value: { $typeName: "pb.DiffOp", lower: { $typeName: "pb.LowerDiffInput", input: -1n },
      upper: { $typeName: "pb.UpperDiffInput", input: 0n } } },
  });
  assert.equal(defaultVertexName(op, () => "up"), "diff scratch -> (up)");
  assert.equal(defaultVertexName(create(OpSchema), () => ""), "unknown");
  assert.equal(fileActionsName([]), "");
});

for (const name of CASES) {
  test(`vertex infos of ${name}.pb carry inputs, names and metadata`, () => {
    const def = loadDefinition(readCasePb(name));
    const infos = vertexInfos(def);
    assert.equal(infos.size, def.ops.size);
    for (const info of infos.values()) {
      assert.equal(info.inputs.length, info.op.inputs.length);
      for (const input of info.inputs) assert.ok(infos.has(input.digest));
      assert.ok(info.name.length > 0);
    }
  });
}

test("vertex infos expose progress groups and ignore-cache", () => {
  const def = loadDefinition(readCasePb("link-merge"));
  const grouped = [...vertexInfos(def).values()].filter((v) => v.progressGroup);
  assert.equal(grouped.length, 2);
  assert.equal(grouped[0].progressGroup?.id, "v1ky0wedwiilmwwbo595azm11");
  assert.equal(grouped[0].progressGroup?.weak, true);
  const cached = loadDefinition(marshalDefinition(image("busybox"), { defaults: { ignoreCache: true } }));
  assert.equal([...vertexInfos(cached).values()][0].ignoreCache, true);
});
