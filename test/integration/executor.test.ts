// The runc executor against real runc: a busybox root filesystem bound from a temp dir, checked for output,
// exit codes, users, cwd, env, networking, mounts, concurrency and a cancellation that leaves nothing behind.
import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "./helpers/requires.js";
import { rendezvous } from "./helpers/rendezvous.js";
import type { ExecMount, ProcessSpec } from "../../src/executor/executor.js";
import { createRuncExecutor, type RuncExecutor, type RuncRunResult } from "../../src/executor/runc-executor.js";
import type { Mount } from "../../src/snapshot/snapshotter.js";
import { codeOf } from "../../src/util/errors.js";

const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

async function makeRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, "bin"), { recursive: true });
  await mkdir(join(dir, "etc"));
  await copyFile("/bin/busybox", join(dir, "bin/busybox"));
  const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const a of applets) if (a !== "busybox") await symlink("busybox", join(dir, "bin", a));
  await writeFile(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
  await writeFile(join(dir, "etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
}

function mountinfoUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => mp === dir || mp.startsWith(dir + "/"));
}

describe("runc executor", () => {
  let work: string;
  let stateDir: string;
  let rootfsDir: string;
  let executor: RuncExecutor;
  let rootMount: Mount[];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "gantry-exec-"));
    stateDir = join(work, "executor");
    rootfsDir = join(work, "rootfs");
    await makeRootfs(rootfsDir);
    rootMount = [{ type: "bind", source: rootfsDir, options: ["rbind"] }];
    executor = createRuncExecutor({ root: stateDir });
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function exec(args: string[], extra: Partial<ProcessSpec> = {}, mounts: ExecMount[] = [],
    signal?: AbortSignal): Promise<RuncRunResult & { stdout: string; stderr: string }> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const res = await executor.run(rootMount, mounts, {
      args, env: [PATH], cwd: "/", user: "", network: "none",
      output: (s, d) => (s === 1 ? out : err).push(Buffer.from(d)), ...extra,
    }, { signal });
    return { ...res, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }

  async function assertNothingLeft(): Promise<void> {
    const ids = execFileSync("runc", ["--root", executor.stateRoot, "list", "-q"], { encoding: "utf8" }).trim();
    assert.equal(ids, "", "runc still lists containers");
    assert.deepEqual(mountinfoUnder(stateDir), [], "mounts left under the executor root");
    const entries = (await readdir(stateDir)).filter((e) => e !== "runc");
    assert.deepEqual(entries, [], "bundle dirs left behind");
  }

  it("captures stdout and stderr and reports exit code 0", async (t: TestContext) => {
    if (!requires(t, { root: true, runc: true })) return;
    const r = await exec(["sh", "-c", "echo hello; echo oops >&2"]);
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, "hello\n");
    assert.equal(r.stderr, "oops\n");
    await assertNothingLeft();
  });

  it("propagates a non-zero exit code", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    const r = await exec(["sh", "-c", "exit 3"]);
    assert.equal(r.exitCode, 3);
    await assertNothingLeft();
  });

  it("resolves a named user with supplementary groups", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    const r = await exec(["id"], { user: "app" });
    assert.match(r.stdout, /^uid=1000\(app\) gid=1000\(app\)/);
    assert.match(r.stdout, /groups=.*50\(staff\)/);
    const r2 = await exec(["id", "-u"], { user: "1000:50" });
    assert.equal(r2.stdout, "1000\n");
  });

  it("rejects an unknown user with InvalidArgument and cleans up", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    await assert.rejects(exec(["id"], { user: "nobody-here" }), (err: unknown) => {
      assert.equal(codeOf(err), "InvalidArgument");
      assert.match(String((err as Error).message), /unable to find user nobody-here/);
      return true;
    });
    await assertNothingLeft();
  });

  it("rejects a missing command with InvalidArgument", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    await assert.rejects(exec(["/no/such/cmd"]), (err: unknown) => {
      assert.equal(codeOf(err), "InvalidArgument");
      return true;
    });
    await assertNothingLeft();
  });

  it("creates a missing cwd owned by the user and sees env", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    const r = await exec(["sh", "-c", "pwd; echo $FOO"], { cwd: "/work/deep", env: [PATH, "FOO=bar baz"], user: "app" });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, "/work/deep\nbar baz\n");
    const st = await stat(join(rootfsDir, "work/deep"));
    assert.equal(st.uid, 1000);
  });

  it("network none has only loopback, up; host sees the host's interfaces", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    const none = await exec(["sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ping -c1 -W1 127.0.0.1 >/dev/null && echo lo-up"]);
    assert.equal(none.stdout, "lo\nlo-up\n");
    const host = await exec(["sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort"], { network: "host" });
    const hostIfs = (await readFile("/proc/net/dev", "utf8")).split("\n").slice(2).filter(Boolean)
      .map((l) => l.split(":")[0].trim()).sort();
    assert.deepEqual(host.stdout.trim().split("\n"), hostIfs);
  });

  it("sets the hostname and writes /etc/hosts and /etc/resolv.conf", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    const r = await exec(["sh", "-c", "hostname; cat /etc/hosts; cat /etc/resolv.conf"],
      { extraHosts: [{ host: "registry.test", ip: "10.1.2.3" }] });
    const lines = r.stdout.split("\n");
    assert.equal(lines[0], "buildkitsandbox");
    assert.ok(lines.includes("127.0.0.1\tlocalhost buildkitsandbox"), r.stdout);
    assert.ok(lines.includes("10.1.2.3\tregistry.test"), r.stdout);
    assert.ok(lines.some((l) => l.startsWith("nameserver ")), r.stdout);
    const named = await exec(["hostname"], { hostname: "box1" });
    assert.equal(named.stdout, "box1\n");
  });

  it("mounts a read-only bind, a selector, a tmpfs and a host file; reports created stubs", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    const data = join(work, "data");
    await mkdir(join(data, "sub"), { recursive: true });
    await writeFile(join(data, "file.txt"), "from data\n");
    await writeFile(join(data, "sub/inner.txt"), "inner\n");
    const secret = join(work, "secret");
    await writeFile(secret, "s3cr3t\n");
    const bind: Mount[] = [{ type: "bind", source: data, options: ["rbind"] }];
    const mounts: ExecMount[] = [
      { dest: "/data", mounts: bind, readonly: true },
      { dest: "/sel", mounts: bind, selector: "sub", readonly: false },
      { dest: "/scratch", mounts: [], readonly: false, tmpfs: { size: 1 << 20 } },
      { dest: "/run/secrets/token", mounts: [], hostPath: secret, readonly: true },
    ];
    const script = [
      "cat /data/file.txt", "cat /sel/inner.txt", "cat /run/secrets/token",
      "if touch /data/new 2>/dev/null; then echo data-writable; else echo data-ro; fi",
      "echo x > /scratch/f && cat /scratch/f", "grep ' /scratch ' /proc/mounts | cut -d' ' -f3",
    ].join("; ");
    const r = await exec(["sh", "-c", script], {}, mounts);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, "from data\ninner\ns3cr3t\ndata-ro\nx\ntmpfs\n");
    assert.deepEqual(await readdir(data), ["file.txt", "sub"]);
    // The stubs were created for the run and, still empty afterwards, removed before the root was unmounted.
    for (const p of ["/data", "/sel", "/scratch", "/run", "/run/secrets", "/run/secrets/token"]) {
      assert.ok(r.removedStubs?.includes(p), `${p} missing from removedStubs ${JSON.stringify(r.removedStubs)}`);
    }
    assert.deepEqual(r.createdStubs, []);
    for (const p of ["data", "sel", "scratch", "run"]) {
      await assert.rejects(stat(join(rootfsDir, p)), (err: unknown) => (err as { code?: string }).code === "ENOENT", `${p} left in the root`);
    }
    await assertNothingLeft();
  });

  it("runs two containers concurrently", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    // Each container waits for the other's mark in a shared directory: run one after the other, the first gives up.
    const meet = join(work, "rendezvous");
    await mkdir(meet, { recursive: true });
    // Both containers share this test's root directory: a /rv stub made by one would be removed when it
    // exits, and removing a mount point on the host detaches the other container's mount there.
    await mkdir(join(rootfsDir, "rv"), { recursive: true });
    const mounts: ExecMount[] = [{ dest: "/rv", mounts: [{ type: "bind", source: meet, options: ["rbind"] }], readonly: false }];
    const [a, b] = await Promise.all([
      exec(["sh", "-c", rendezvous("/rv", "a", "b")], {}, mounts),
      exec(["sh", "-c", rendezvous("/rv", "b", "a")], {}, mounts),
    ]);
    assert.equal(a.exitCode, 0, a.stderr);
    assert.equal(b.exitCode, 0, b.stderr);
    await assertNothingLeft();
  });

  it("cancels a running container and leaves no state, mounts or bundles", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    const ac = new AbortController();
    const data = join(work, "data-cancel");
    await mkdir(data, { recursive: true });
    const mounts: ExecMount[] = [{ dest: "/data", mounts: [{ type: "bind", source: data, options: ["rbind"] }], readonly: true }];
    const start = Date.now();
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(exec(["sleep", "30"], {}, mounts, ac.signal), (err: unknown) => {
      assert.equal(codeOf(err), "Canceled");
      return true;
    });
    // Only "not waiting for sleep 30" is proven; setup and teardown of a container on a busy machine take seconds.
    assert.ok(Date.now() - start < 25_000, `cancel took ${Date.now() - start}ms`);
    await assertNothingLeft();
  });

  it("cancels immediately when aborted during setup", async (t) => {
    if (!requires(t, { root: true, runc: true })) return;
    for (const ms of [0, 5, 20, 60]) {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), ms);
      await assert.rejects(exec(["sleep", "30"], {}, [], ac.signal), (err: unknown) => codeOf(err) === "Canceled");
    }
    await assertNothingLeft();
  });
});
