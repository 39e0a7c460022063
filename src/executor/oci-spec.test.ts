import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, buildSpec, specToJson, type SpecInput } from "./oci-spec.js";

function input(over: Partial<SpecInput["process"]> = {}, rest: Partial<SpecInput> = {}): SpecInput {
  return {
    id: "abc123",
    rootfs: "/var/lib/gantry/executor/abc123/rootfs",
    process: { args: ["sh", "-c", "true"], env: ["PATH=/bin", "A=b"], cwd: "/src", network: "sandbox", ...over },
    user: { uid: 1000, gid: 1000, additionalGids: [1000, 50] },
    hostsFile: "/b/hosts",
    resolvConf: "/b/resolv.conf",
    mounts: [],
    ...rest,
  };
}

describe("buildSpec", () => {
  it("fills the process from the op, with upstream's defaults", () => {
    const s = buildSpec(input());
    assert.equal(s.ociVersion, "1.0.2");
    assert.deepEqual(s.process.args, ["sh", "-c", "true"]);
    assert.deepEqual(s.process.env, ["PATH=/bin", "A=b"]);
    assert.equal(s.process.cwd, "/src");
    assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [1000, 50] });
    assert.equal(s.process.terminal, false);
    assert.equal(s.process.noNewPrivileges, false);
    assert.equal(s.process.rlimits, undefined);
    assert.deepEqual(s.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
    assert.deepEqual(s.process.capabilities.effective, [...DEFAULT_CAPABILITIES]);
    assert.equal(s.process.capabilities.ambient, undefined);
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.deepEqual(s.root, { path: "/var/lib/gantry/executor/abc123/rootfs", readonly: false });
    assert.equal(s.hostname, "buildkitsandbox");
    assert.equal(s.linux.cgroupsPath, "/gantry/abc123");
    assert.ok(s.linux.maskedPaths.includes("/proc/kcore"));
    assert.ok(s.linux.readonlyPaths.includes("/proc/sys"));
    assert.deepEqual(s.linux.resources.devices, [{ allow: false, access: "rwm" }]);
  });

  it("defaults cwd to / and takes the op's hostname", () => {
    const s = buildSpec(input({ cwd: "", hostname: "box" }));
    assert.equal(s.process.cwd, "/");
    assert.equal(s.hostname, "box");
  });

  it("has the default mounts, read-only etc files and cgroupfs, and no /run", () => {
    const s = buildSpec(input());
    const dests = s.mounts.map((m) => m.destination);
    assert.deepEqual(dests, ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/resolv.conf",
      "/etc/hosts", "/sys/fs/cgroup"]);
    const byDest = new Map(s.mounts.map((m) => [m.destination, m]));
    assert.ok(byDest.get("/sys")?.options.includes("ro"));
    assert.ok(byDest.get("/sys/fs/cgroup")?.options.includes("ro"));
    assert.deepEqual(byDest.get("/etc/hosts"), { destination: "/etc/hosts", type: "bind", source: "/b/hosts",
      options: ["nosuid", "noexec", "nodev", "rbind", "ro"] });
    assert.equal(byDest.get("/etc/resolv.conf")?.source, "/b/resolv.conf");
  });

  it("appends the op's mounts, a later one replacing an earlier one at the same destination", () => {
    const s = buildSpec(input({}, { mounts: [
      { destination: "/data", type: "bind", source: "/x", options: ["rbind", "ro"] },
      { destination: "/etc/hosts", type: "bind", source: "/mine", options: ["rbind"] },
    ] }));
    assert.equal(s.mounts.at(-1)?.destination, "/data");
    assert.equal(s.mounts.find((m) => m.destination === "/etc/hosts")?.source, "/mine");
    assert.equal(s.mounts.filter((m) => m.destination === "/etc/hosts").length, 1);
  });

  it("maps network modes to namespaces", () => {
    const types = (n: "none" | "host" | "sandbox", cg = false) =>
      buildSpec(input({ network: n }, { cgroupNamespace: cg })).linux.namespaces.map((x) => x.type);
    assert.deepEqual(types("none"), ["pid", "ipc", "uts", "mount", "network"]);
    assert.deepEqual(types("host"), ["pid", "ipc", "uts", "mount"]);
    assert.deepEqual(types("sandbox"), ["pid", "ipc", "uts", "mount"]);
    assert.deepEqual(types("none", true), ["pid", "ipc", "uts", "mount", "network", "cgroup"]);
  });

  it("writes ulimits as rlimits, -1 as uint64 max", () => {
    const s = buildSpec(input({ ulimits: [{ name: "nofile", soft: 1024, hard: -1 }] }));
    assert.deepEqual(s.process.rlimits, [{ type: "RLIMIT_NOFILE", soft: 1024, hard: "unlimited" }]);
    const json = specToJson(s);
    assert.match(json, /"hard": 18446744073709551615/);
    assert.match(json, /"soft": 1024/);
  });

  it("opens up a privileged step like upstream's insecure mode", () => {
    const s = buildSpec(input({ privileged: true }, { allCapabilities: ALL_CAPABILITIES.slice(0, 38) }));
    assert.equal(s.process.capabilities.bounding.length, 38);
    assert.ok(s.process.capabilities.ambient?.includes("CAP_SYS_ADMIN"));
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, []);
    assert.ok(!s.mounts.find((m) => m.destination === "/sys")?.options.includes("ro"));
    assert.ok(!s.mounts.find((m) => m.destination === "/sys/fs/cgroup")?.options.includes("ro"));
    assert.deepEqual(s.linux.resources.devices.map((d) => d.allow), [true, true]);
  });

  it("serialises to JSON runc can parse back", () => {
    const parsed = JSON.parse(specToJson(buildSpec(input()))) as { process: { args: string[] } };
    assert.deepEqual(parsed.process.args, ["sh", "-c", "true"]);
  });
});
