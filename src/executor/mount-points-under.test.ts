import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountPointsUnder } from "./mount-points-under.js";

describe("mountPointsUnder", () => {
  it("lists mount points at or below a directory, decoding escapes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gantry-mi-"));
    try {
      const info = join(dir, "mountinfo");
      await writeFile(info, [
        "22 1 0:21 / / rw - ext4 /dev/sda rw",
        "30 22 0:40 / /var/lib/gantry/executor/ab/rootfs rw - overlay overlay rw",
        "31 22 0:41 / /var/lib/gantry/executor/ab/mnt/my\\040dir rw - tmpfs tmpfs rw",
        "32 22 0:42 / /var/lib/gantry/executor/abc rw - tmpfs tmpfs rw",
        "",
      ].join("\n"));
      assert.deepEqual(await mountPointsUnder("/var/lib/gantry/executor/ab", info),
        ["/var/lib/gantry/executor/ab/rootfs", "/var/lib/gantry/executor/ab/mnt/my dir"]);
      assert.deepEqual(await mountPointsUnder("/elsewhere", info), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
