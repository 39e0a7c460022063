// Outputs that belong to the client (local, tar, oci, docker) are written by the exporters into scratch
// space on the daemon's side, then sent over the client's session: a directory as an fsutil stream, a
// tarball as bytes. `dest` never reaches the daemon (buildctl strips it).
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { GrpcBuildSession } from "../session/grpc-build-session.js";

export interface ExportEntry {
  type: string;
  attrs: Record<string, string>;
}

interface Pending {
  index: number;
  kind: "dir" | "file";
  path: string;
}

export interface SessionExports {
  /** The exports as the controller should run them (dest pointing into scratch space). */
  entries: ExportEntry[];
  /** Sends what the exporters wrote to the client. */
  deliver(signal?: AbortSignal): Promise<void>;
  cleanup(): Promise<void>;
}

export async function prepareSessionExports(entries: readonly ExportEntry[], scratchRoot: string, session: GrpcBuildSession): Promise<SessionExports> {
  const toClient = (e: ExportEntry): boolean =>
    e.type === "local" || ((e.type === "tar" || e.type === "oci" || e.type === "docker") && e.attrs.tar !== "false");
  // Scratch space only for exports that travel to the client; an image export needs none.
  const work = entries.some(toClient) ? await mkdtemp(join(scratchRoot, "export-")) : undefined;
  const pending: Pending[] = [];
  const out = entries.map((e, index): ExportEntry => {
    if (work === undefined || !toClient(e)) return e;
    const path = join(work, `${index}-${e.type}${e.type === "local" ? "" : ".tar"}`);
    pending.push({ index, kind: e.type === "local" ? "dir" : "file", path });
    return { type: e.type, attrs: { ...e.attrs, dest: path } };
  });
  return {
    entries: out,
    async deliver(signal) {
      for (const p of pending) {
        if (p.kind === "dir") await session.sendDir(p.path, { exporterId: p.index, signal });
        else await pipeline(createReadStream(p.path), session.fileSend({}, { exporterId: p.index, signal }), { signal });
      }
    },
    cleanup: async () => {
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    },
  };
}
