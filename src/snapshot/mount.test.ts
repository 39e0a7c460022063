import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint, unmountAll } from "./mount.js";

const MOUNTINFO = [
  "22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "97 22 0:52 / /var/lib/gantry/executor/ab/rootfs rw,relatime shared:50 - overlay overlay rw,lowerdir=/x",
  "98 22 0:53 / /tmp/with\\040space rw,relatime - tmpfs tmpfs rw",
  "",
].join("\n");

test("isMountPoint matches whole mount points, octal escapes decoded, not prefixes", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-mountinfo-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const info = join(dir, "mountinfo");
  await writeFile(info, MOUNTINFO);
  assert.equal(await isMountPoint("/var/lib/gantry/executor/ab/rootfs", info), true);
  assert.equal(await isMountPoint("/tmp/with space", info), true);
  assert.equal(await isMountPoint("/var/lib/gantry/executor/ab", info), false);
  assert.equal(await isMountPoint("/var/lib/gantry/executor/ab/rootfs/etc", info), false);
});

test("unmountAll does nothing for a missing or unmounted directory", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-unmount-"));
  const path = process.env.PATH;
  t.after(async () => {
    process.env.PATH = path;
    await rm(dir, { recursive: true, force: true });
  });
  // With no umount on PATH, a spawn would fail: neither call may spawn one.
  process.env.PATH = dir;
  await unmountAll(dir);
  await unmountAll(join(dir, "missing"));
});
