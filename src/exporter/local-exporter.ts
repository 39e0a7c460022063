// The `local` exporter: copies the result's merged rootfs into a directory. The CLI runs in-process here,
// so the destination is the `dest` attr; `cp -a` keeps modes, owners, symlinks, hard links and xattrs
// and does the bulk file work far faster than per-file awaits.
import { lstat, lutimes, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { platformId } from "../oci/platform.js";
import { runTool } from "../oci/run-tool.js";
import { GantryError, throwIfAborted } from "../util/errors.js";
import { parseBoolAttr, parseEpochAttr, unknownAttr } from "./attr-parsers.js";
import { withStatus } from "./destination.js";
import type { ExportOptions, ExportResult, ExportSource, Exporter, ExporterInstance } from "./exporter.js";
import { AttrKey } from "./keys.js";

interface LocalAttrs {
  dest: string;
  epoch?: Date;
  /** Multi-platform results: one directory per platform (the default) or all merged (unsupported). */
  platformSplit: boolean;
}

function parseLocalAttrs(raw: Record<string, string>): LocalAttrs {
  let dest: string | undefined;
  let epoch: Date | undefined;
  let platformSplit = true;
  for (const [k, v] of Object.entries(raw)) {
    switch (k) {
      case AttrKey.dest: dest = v; break;
      case AttrKey.sourceDateEpoch: epoch = parseEpochAttr(k, v); break;
      case AttrKey.attestationPrefix: break; // attestations are not exported yet; the prefix has nothing to name
      case AttrKey.platformSplit: platformSplit = parseBoolAttr(k, v); break;
      case AttrKey.mode:
        if (v !== "" && v !== "copy") {
          throw new GantryError("InvalidArgument", `Invalid value "${v}" for exporter attr mode: only copy is supported.`);
        }
        break;
      default: throw unknownAttr("local", k);
    }
  }
  if (!dest) throw new GantryError("InvalidArgument", "The local exporter needs a dest attr naming a directory.");
  return { dest, epoch, platformSplit };
}

/** The `local` exporter. */
export function createLocalExporter(): Exporter {
  return {
    async resolve(raw: Record<string, string>): Promise<ExporterInstance> {
      return new LocalExporterInstance(parseLocalAttrs(raw));
    },
  };
}

class LocalExporterInstance implements ExporterInstance {
  readonly type = "local";
  readonly name = "exporting to client directory";
  readonly #attrs: LocalAttrs;

  constructor(attrs: LocalAttrs) {
    this.#attrs = attrs;
  }

  /** Copies the rootfs over `dest` (created if missing; existing files there are overwritten, not removed). */
  async export(source: ExportSource, opts: ExportOptions = {}): Promise<ExportResult> {
    await this.#copy(source, this.#attrs.dest, opts);
    return { response: {} };
  }

  /** One directory per platform under `dest`, named as upstream names them (`linux_amd64`, `linux_arm_v7`). */
  async exportPlatforms(sources: readonly ExportSource[], opts: ExportOptions = {}): Promise<ExportResult> {
    if (!this.#attrs.platformSplit) throw platformSplitOff();
    for (const source of sources) {
      await this.#copy(source, join(this.#attrs.dest, platformId(source.platform).replaceAll("/", "_")), opts);
    }
    return { response: {} };
  }

  async #copy(source: ExportSource, dest: string, opts: ExportOptions): Promise<void> {
    const { epoch } = this.#attrs;
    throwIfAborted(opts.signal);
    await mkdir(dest, { recursive: true });
    await withStatus(opts.progress, "copying files", () => source.withRootfs(async (rootfs) => {
      await runTool("cp", ["-a", "--", `${rootfs}/.`, `${dest}/`], { signal: opts.signal });
      if (epoch) await setTimes(rootfs, dest, "", epoch, opts.signal);
    }));
  }
}

/** Gives every copied path (walked in the source, so other files in `dest` are left alone) mtime `epoch`. */
async function setTimes(src: string, dest: string, rel: string, epoch: Date, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  for (const name of await readdir(join(src, rel))) {
    const childRel = rel === "" ? name : `${rel}/${name}`;
    const st = await lstat(join(src, childRel));
    if (st.isDirectory()) await setTimes(src, dest, childRel, epoch, signal);
    await lutimes(join(dest, childRel), epoch, epoch);
  }
  if (rel === "") await lutimes(dest, epoch, epoch);
}

/** Merging several platforms' files into one directory (upstream's platform-split=false) is not done here. */
function platformSplitOff(): GantryError {
  return new GantryError("Unimplemented", "The local exporter always writes one directory per platform: platform-split=false is not supported.");
}
