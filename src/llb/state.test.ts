import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { loadDefinition } from "./definition.js";
import { Caps, DefaultPathEnv } from "./keys.js";
import { copy, image, local, marshalDefinition, merge, mkdir, mkfile, scratch, type MarshalOptions, type State } from "./state.js";
import { CASES, readCasePb } from "./testing/conformance.js";

// The conformance definitions were written by upstream v0.11.6's Dockerfile converter for linux/amd64
// against a daemon that sets the default PATH; these helpers rebuild them with the TS API.
const PLATFORM = { os: "linux", architecture: "amd64" };
const REF = "localhost:5000/cf/busybox:1@sha256:ca93dc8e7f649ba8191273c4cd696a0c3bd9cc1a0ddafc53ee06f506c243d718";
const CMD = "com.docker.dockerfile.v1.command";
const V011: MarshalOptions = {
  platform: PLATFORM, caps: new Set([Caps.execMetaSetsDefaultPath]), fileOpPlatform: true,
  localUniqueId: "sicjkxin9x82qejr3ph6k6fny",
};
const DOCKER_COPY = { followSymlinks: true, copyDirContentsOnly: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true };

function from(step: string, suffix = ""): State {
  return image(REF, {
    platform: PLATFORM, customName: `[${step}] FROM ${REF}`,
    description: { [CMD]: `FROM localhost:5000/cf/busybox:1${suffix}` },
  }).env("PATH", DefaultPathEnv);
}

function runSh(st: State, step: string, cmd: string): State {
  return st.run({ args: ["/bin/sh", "-c", cmd], customName: `[${step}] RUN ${cmd}`, description: { [CMD]: `RUN ${cmd}` } }).root();
}

function workdir(st: State, step: string, dir: string): State {
  return st.dir(dir).file(mkdir(dir, 0o755, { parents: true }), { customName: `[${step}] WORKDIR ${dir}` });
}

const BUILDERS: Record<(typeof CASES)[number], () => State> = {
  seed: () => runSh(from("1/2"), "2/2", 'echo "built with BuildKit!" >  file'),
  parallel: () => {
    const base = from("b 1/2", " AS b");
    const a = runSh(base, "a 2/2", "sleep 1 && echo a > /a");
    const b = runSh(base, "b 2/2", "sleep 1 && echo b > /b");
    return base
      .file(copy(a, "/a", "/a", DOCKER_COPY), { customName: "[stage-2 2/3] COPY --from=a /a /a" })
      .file(copy(b, "/b", "/b", DOCKER_COPY), { customName: "[stage-2 3/3] COPY --from=b /b /b" });
  },
  "copy-context": () => {
    const ctx = local("context", { sharedKeyHint: "context", customName: "[internal] load build context" });
    const wd = workdir(from("1/4"), "2/4", "/app");
    const copied = wd.file(copy(ctx, "/", "/app/", DOCKER_COPY), { customName: "[3/4] COPY . ." });
    return runSh(copied, "4/4", "find . -type f | sort > /listing");
  },
  "link-merge": () => {
    const src = runSh(from("src 1/2", " AS src"), "src 2/2", "mkdir /out && echo linked > /out/f");
    const group = { id: "v1ky0wedwiilmwwbo595azm11", name: "[stage-1 2/3] COPY --link --from=src /out /out" };
    const layer = scratch().file(copy(src, "/out", "/out", DOCKER_COPY), { progressGroup: { ...group, weak: true } });
    const merged = merge([from("src 1/2", " AS src"), layer], {
      customName: "[stage-1 2/3] LINK COPY --link --from=src /out /out", progressGroup: group,
    });
    return runSh(merged, "stage-1 3/3", "cat /out/f > /seen");
  },
  fileops: () => {
    const wd = workdir(from("1/4"), "2/4", "/w/x");
    const doc = scratch().file(mkfile("/EOF", 0o664, "hi\n"), { customName: "[internal] preparing inline document" });
    const copied = wd.file(copy(doc, "/EOF", "/w/x/note.txt", { owner: "1000:1000", createDestPath: true }),
      { customName: "[3/4] COPY --chown=1000:1000 <<EOF /w/x/note.txt" });
    return runSh(copied, "4/4", "rm -f /etc/group && ln -s /w/x/note.txt /link");
  },
};

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

for (const name of CASES) {
  test(`the TS builder reproduces every op of ${name}.pb byte for byte`, () => {
    const ours = loadDefinition(marshalDefinition(BUILDERS[name](), V011));
    const theirs = loadDefinition(readCasePb(name));
    const bytesOf = (d: typeof ours) => new Map([...d.entries].map((e) => [e.digest, hex(e.bytes)]));
    assert.deepEqual(bytesOf(ours), bytesOf(theirs));
    assert.deepEqual(ours.terminal, theirs.terminal);
    for (const [digest, md] of theirs.metadata) assert.deepEqual(ours.metadata.get(digest), md, digest);
  });
}

// copy-context differs only in vertex order: v0.11 listed file-op inputs in Go map order.
for (const name of ["seed", "fileops", "link-merge", "parallel"] as const) {
  test(`the TS builder reproduces the whole of ${name}.pb`, () => {
    assert.equal(hex(marshalDefinition(BUILDERS[name](), V011)), hex(readCasePb(name)));
  });
}

test("marshalling is stable and round-trips through loadDefinition", () => {
  const st = BUILDERS["copy-context"]();
  const a = marshalDefinition(st, V011);
  const b = marshalDefinition(st, V011);
  assert.equal(hex(a), hex(b));
  const def = loadDefinition(a);
  const direct = st.marshal(V011);
  assert.deepEqual(def.entries.map((e) => hex(e.bytes)), direct.def.map(hex));
  assert.equal(def.ops.size, 5);
});

test("current upstream layout: file ops carry no platform, execs get the host platform", () => {
  const def = loadDefinition(marshalDefinition(image("busybox").file(mkdir("/x", 0o755)).run({ shell: "true" }).root()));
  const kinds = def.entries.slice(0, -1).map((e) => [e.op.op.case, e.op.platform !== undefined]);
  assert.deepEqual(kinds, [["source", true], ["file", false], ["exec", true]]);
});

test("scratch marshals to an empty definition", () => {
  assert.deepEqual(scratch().marshal().def, []);
  assert.equal(marshalDefinition(scratch()).length, 0);
});
