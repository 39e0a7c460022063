import assert from "node:assert/strict";
import { test } from "node:test";
import type { FileOp } from "../gen/pb/ops_pb.js";
import { loadDefinition, type LoadedDefinition } from "./definition.js";
import { copy, diff, image, local, marshalDefinition, merge, mkdir, scratch, type State } from "./state.js";

function load(st: State): LoadedDefinition {
  return loadDefinition(marshalDefinition(st));
}

function lastFileOp(def: LoadedDefinition): FileOp {
  const op = def.ops.get(def.terminal.digest)?.op;
  assert.ok(op?.op.case === "file");
  return op.op.value;
}

test("chained actions read the previous action's result as numInputs + k", () => {
  const ctx = local("context");
  const other = image("alpine");
  const st = image("busybox").dir("/app").file(
    mkdir("data", 0o755, { parents: true, owner: "app:staff" })
      .copy(ctx, "src/", "./", { include: ["*.go"], mode: 0o644 })
      .copy(other, "/etc/os-release", "/os", { owner: { user: 0, group: 10 } })
      .rm("tmp/*", { allowWildcard: true, allowNotFound: true }),
  );
  const def = load(st);
  const file = lastFileOp(def);
  const op = def.ops.get(def.terminal.digest)?.op;
  assert.equal(op?.inputs.length, 3);
  assert.deepEqual(file.actions.map((a) => [Number(a.input), Number(a.secondaryInput), Number(a.output)]),
    [[0, -1, -1], [3, 1, -1], [4, 2, -1], [5, -1, 0]]);
  const [mk, cp1, cp2, del] = file.actions.map((a) => a.action);
  assert.ok(mk.case === "mkdir" && cp1.case === "copy" && cp2.case === "copy" && del.case === "rm");
  assert.equal(mk.value.path, "/app/data");
  assert.equal(mk.value.mode, 0o755);
  assert.equal(mk.value.timestamp, -1n);
  assert.deepEqual(mk.value.owner?.user?.user, { case: "byName", value: { $typeName: "pb.NamedUserOpt", name: "app", input: 0n } });
  assert.equal(cp1.value.src, "/src");
  assert.equal(cp1.value.dest, "/app/");
  assert.equal(cp1.value.mode, 0o644);
  assert.deepEqual(cp1.value.includePatterns, ["*.go"]);
  assert.deepEqual(cp2.value.owner?.group?.user, { case: "byID", value: 10 });
  assert.equal(cp2.value.mode, -1);
  assert.equal(del.value.path, "/app/tmp/*");
  assert.equal(def.metadata.get(def.terminal.digest)?.caps["file.copy.includeexcludepatterns"], true);
});

test("copy resolves relative sources against the source state's dir; symlinks and string modes", () => {
  const src = image("alpine").dir("/work");
  const st = scratch().file(copy(src, "bin/tool", "/usr/bin/", { mode: "u+x" }).symlink("/usr/bin/tool", "/tool"));
  const def = load(st);
  const [cp, ln] = lastFileOp(def).actions.map((a) => a.action);
  assert.ok(cp.case === "copy" && ln.case === "symlink");
  assert.equal(cp.value.src, "/work/bin/tool");
  assert.equal(cp.value.modeStr, "u+x");
  assert.equal(cp.value.mode, 0);
  assert.equal(ln.value.oldpath, "/usr/bin/tool");
  assert.equal(ln.value.newpath, "/tool");
  const caps = def.metadata.get(def.terminal.digest)?.caps ?? {};
  assert.equal(caps["file.copy.modestring"], true);
  assert.equal(caps["file.symlink.create"], true);
  // Scratch base: the first action's input is -1.
  assert.equal(lastFileOp(def).actions[0].input, -1n);
});

test("dest keeps a trailing slash or /. and created times become unix nanoseconds", () => {
  const st = scratch().file(copy(image("a"), "/x", "/d/.", { createdTime: new Date(1_000) }).rm("/d/../e"));
  const [cp, del] = lastFileOp(load(st)).actions.map((a) => a.action);
  assert.ok(cp.case === "copy" && del.case === "rm");
  assert.equal(cp.value.dest, "/d/.");
  assert.equal(cp.value.timestamp, 1_000_000_000n);
  assert.equal(del.value.path, "/e");
});

test("merge and diff skip scratch like upstream", () => {
  const a = image("alpine");
  const b = local("ctx");
  assert.equal(merge([scratch(), a, scratch()]), a);
  assert.ok(merge([]).isScratch());
  assert.equal(diff(scratch(), b), b);
  const m = load(merge([a, b, a]));
  const mop = m.ops.get(m.terminal.digest)?.op;
  assert.ok(mop?.op.case === "merge");
  assert.deepEqual(mop.op.value.inputs.map((i) => Number(i.input)), [0, 1, 2]);
  assert.equal(mop.platform, undefined);
  const d = load(diff(a, scratch()));
  const dop = d.ops.get(d.terminal.digest)?.op;
  assert.ok(dop?.op.case === "diff");
  assert.equal(dop.op.value.lower?.input, 0n);
  assert.equal(dop.op.value.upper?.input, -1n);
  assert.equal(d.metadata.get(d.terminal.digest)?.caps["diffop"], true);
});
