import assert from "node:assert/strict";
import { test } from "node:test";
import { CacheSharingOpt, MountType, NetMode, SecurityMode, type ExecOp } from "../gen/pb/ops_pb.js";
import { GantryError } from "../util/errors.js";
import { loadDefinition, type LoadedDefinition } from "./definition.js";
import { DefaultPathEnv } from "./keys.js";
import { image, local, marshalDefinition, scratch, type State } from "./state.js";

const PLATFORM = { os: "linux", architecture: "arm64", variant: "v8" };

function load(st: State, caps?: Set<string>): LoadedDefinition {
  return loadDefinition(marshalDefinition(st, { platform: PLATFORM, ...(caps ? { caps } : {}) }));
}

function execOf(def: LoadedDefinition, nth = 0): { exec: ExecOp; digest: string } {
  const execs = def.entries.filter((e) => e.op.op.case === "exec");
  const e = execs[nth];
  assert.ok(e && e.op.op.case === "exec");
  return { exec: e.op.op.value, digest: e.digest };
}

test("run uses the state's env, dir and user; run options apply to that run only", () => {
  const base = image("alpine").env("A", "1").env("B", "2").env("A", "3").dir("/src").dir("sub").user("app");
  const run = base.run({ shell: "make", env: { C: "4" }, cwd: "build" });
  const { exec } = execOf(load(run.root()));
  assert.deepEqual(exec.meta?.args, ["/bin/sh", "-c", "make"]);
  assert.deepEqual(exec.meta?.env, ["B=2", "A=3", "C=4"]);
  assert.equal(exec.meta?.cwd, "/src/sub/build");
  assert.equal(exec.meta?.user, "app");
  assert.equal(exec.meta?.removeMountStubsRecursive, true);
  // The root state keeps the base's values, not the run's.
  assert.equal(run.root().getEnv("C"), undefined);
  assert.equal(run.root().getDir(), "/src/sub");
});

test("states are immutable", () => {
  const base = image("alpine");
  const withEnv = base.env("X", "1");
  assert.equal(base.getEnv("X"), undefined);
  assert.equal(withEnv.getEnv("X"), "1");
  const one = base.run({ args: ["true"] }).root();
  const two = base.run({ args: ["false"] }).root();
  assert.notEqual(load(one).terminal.digest, load(two).terminal.digest);
  assert.equal(load(base).ops.size, 1);
});

test("mounts are sorted by target and writable ones numbered as outputs", () => {
  const ctx = local("context");
  const run = image("alpine").run({
    args: ["build"],
    mounts: [
      { target: "/out", source: scratch() },
      { target: "/cache", type: "cache", cacheId: "go", sharing: "locked" },
      { target: "/ctx", source: ctx, readonly: true, selector: "sub" },
      { target: "/tmp", type: "tmpfs", size: 1024 },
      { target: "/a", source: ctx },
    ],
  });
  const def = load(run.getMount("/out"));
  const { exec } = execOf(def);
  assert.deepEqual(exec.mounts.map((m) => [m.dest, Number(m.input), Number(m.output)]),
    [["/", 0, 0], ["/a", 1, 1], ["/cache", -1, -1], ["/ctx", 1, -1], ["/out", -1, 2], ["/tmp", -1, -1]]);
  const cache = exec.mounts[2];
  assert.equal(cache.mountType, MountType.CACHE);
  assert.equal(cache.cacheOpt?.ID, "go");
  assert.equal(cache.cacheOpt?.sharing, CacheSharingOpt.LOCKED);
  assert.equal(exec.mounts[3].selector, "sub");
  assert.equal(exec.mounts[3].readonly, true);
  assert.equal(exec.mounts[5].TmpfsOpt?.size, 1024n);
  // getMount("/out") is output 2 of the exec.
  assert.equal(def.terminal.index, 2);
  const md = def.metadata.get(execOf(def).digest);
  for (const cap of ["exec.meta.base", "exec.mount.bind", "exec.mount.cache", "exec.mount.cache.sharing",
    "exec.mount.selector", "exec.mount.tmpfs", "exec.mount.tmpfs.size"]) assert.equal(md?.caps[cap], true, cap);
  // A readonly mount gives back its source unchanged.
  assert.equal(run.getMount("/ctx").output(), ctx.output());
});

test("secrets and ssh sockets are appended after regular mounts", () => {
  const run = image("alpine").run({
    args: ["deploy"],
    mounts: [
      { target: "/run/secrets/token", type: "secret", id: "token" },
      { type: "secret", id: "npm", env: "NPM_TOKEN", optional: true },
      { type: "ssh" },
    ],
  });
  const { exec } = execOf(load(run.root()));
  assert.deepEqual(exec.mounts.map((m) => [m.dest, m.mountType]),
    [["/", MountType.BIND], ["/run/secrets/token", MountType.SECRET], ["/run/buildkit/ssh_agent.0", MountType.SSH]]);
  assert.equal(exec.mounts[1].secretOpt?.mode, 0o400);
  assert.equal(exec.mounts[2].SSHOpt?.mode, 0o600);
  assert.deepEqual(exec.secretenv.map((s) => [s.ID, s.name, s.optional]), [["npm", "NPM_TOKEN", true]]);
  assert.ok(exec.meta?.env.includes("SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"));
});

test("network, security, platform and ulimits", () => {
  const run = image("alpine").network("none").run({
    args: ["x"], security: "insecure", ulimits: [{ name: "nofile", soft: 1024, hard: 2048 }],
    platform: { os: "linux", architecture: "riscv64" },
  });
  const def = load(run.root());
  const { exec, digest } = execOf(def);
  assert.equal(exec.network, NetMode.NONE);
  assert.equal(exec.security, SecurityMode.INSECURE);
  assert.equal(exec.meta?.ulimit[0].Hard, 2048n);
  const op = def.ops.get(digest as never);
  assert.equal(op?.op.platform?.Architecture, "riscv64");
  const caps = def.metadata.get(digest)?.caps ?? {};
  assert.equal(caps["exec.meta.network"], true);
  assert.equal(caps["exec.meta.security"], true);
  assert.equal(caps["exec.meta.ulimit"], true);
  // The image source keeps the marshal platform.
  assert.equal(def.entries[0].op.platform?.Variant, "v8");
});

test("default PATH is added only for daemons that do not set it", () => {
  const st = image("alpine").run({ args: ["x"] }).root();
  assert.deepEqual(execOf(load(st)).exec.meta?.env, []);
  assert.deepEqual(execOf(load(st, new Set())).exec.meta?.env, [`PATH=${DefaultPathEnv}`]);
  const withCap = load(st, new Set(["exec.meta.setsdefaultpath"]));
  assert.deepEqual(execOf(withCap).exec.meta?.env, []);
  assert.equal(withCap.metadata.get(execOf(withCap).digest)?.caps["exec.meta.setsdefaultpath"], true);
});

test("invalid runs are InvalidArgument", () => {
  const base = image("alpine");
  const invalid = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) =>
    e instanceof GantryError && e.code === "InvalidArgument" && re.test(e.message));
  invalid(() => base.run({}), /exactly one of args, shell or shlex/);
  invalid(() => base.run({ args: [] }), /empty command/);
  invalid(() => base.run({ args: ["x"], mounts: [{ target: "/t", type: "tmpfs", source: base }] }), /cannot have a source/);
  const tmp = base.run({ args: ["x"], mounts: [{ target: "/t", type: "tmpfs" }] });
  invalid(() => marshalDefinition(tmp.getMount("/t").run({ args: ["y"] }).root()), /tmpfs mount at \/t has no output/);
  assert.throws(() => tmp.getMount("/nope"), (e: unknown) => e instanceof GantryError && e.code === "NotFound");
});

test("shlex splits like a shell without running one", () => {
  const { exec } = execOf(load(image("alpine").run({ shlex: `echo "a b" 'c d' e\\ f` }).root()));
  assert.deepEqual(exec.meta?.args, ["echo", "a b", "c d", "e f"]);
});
