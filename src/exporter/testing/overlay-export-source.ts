// Test helper: an ExportSource over hand-made layer directories. `withRootfs` mounts them read-only with
// overlayfs (root only), or, with `rootfs`, hands out a prepared directory instead.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTool } from "../../oci/run-tool.js";
import type { Platform } from "../../oci/types.js";
import type { ExportLayer, ExportSource } from "../exporter.js";

export interface TestSourceOptions {
  layers: ExportLayer[];
  platform?: Platform;
  imageConfig?: Uint8Array;
  /** A ready merged view; when absent the layers are overlay-mounted (needs root). */
  rootfs?: string;
}

/** An ExportSource for tests; see the file comment. */
export function testExportSource(opts: TestSourceOptions): ExportSource {
  return {
    layers: opts.layers,
    platform: opts.platform ?? { os: "linux", architecture: "amd64" },
    imageConfig: opts.imageConfig,
    async withRootfs<T>(fn: (dir: string) => Promise<T>): Promise<T> {
      if (opts.rootfs !== undefined) return fn(opts.rootfs);
      const tmp = await mkdtemp(join(tmpdir(), "gantry-rootfs-"));
      const merged = join(tmp, "merged");
      const empty = join(tmp, "empty");
      await runTool("mkdir", [merged, empty]);
      try {
        if (opts.layers.length === 0) return await fn(empty);
        // Overlay wants at least two lower dirs without an upper dir; an empty one at the bottom is free.
        const lower = [...opts.layers.map((l) => l.path).reverse(), empty].join(":");
        await runTool("mount", ["-t", "overlay", "overlay", "-o", `ro,lowerdir=${lower}`, merged]);
        try {
          return await fn(merged);
        } finally {
          await runTool("umount", [merged]);
        }
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}
