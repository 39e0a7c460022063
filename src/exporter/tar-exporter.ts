// The `tar` exporter: the result's merged rootfs as one tarball (files only, no image metadata), written
// to a file or to stdout (`dest=-`).
import type { Writable } from "node:stream";
import { writeLayerTar } from "../oci/layer-writer.js";
import { parseBoolAttr, parseEpochAttr, unknownAttr } from "./attr-parsers.js";
import { checkTarDest, openTarDest, withStatus } from "./destination.js";
import type { ExportOptions, ExportResult, ExportSource, Exporter, ExporterInstance } from "./exporter.js";
import { AttrKey } from "./keys.js";

export interface TarExporterDeps {
  /** Where `dest=-` writes (default process.stdout). */
  stdout?: Writable & { isTTY?: boolean };
}

interface TarAttrs {
  dest: string;
  epoch?: Date;
}

/** The `tar` exporter. */
export function createTarExporter(deps: TarExporterDeps = {}): Exporter {
  const stdout = deps.stdout ?? process.stdout;
  return {
    async resolve(raw: Record<string, string>): Promise<ExporterInstance> {
      let dest: string | undefined;
      let epoch: Date | undefined;
      for (const [k, v] of Object.entries(raw)) {
        switch (k) {
          case AttrKey.dest: dest = v; break;
          case AttrKey.sourceDateEpoch: epoch = parseEpochAttr(k, v); break;
          case AttrKey.attestationPrefix: break; // attestations are not exported yet
          case AttrKey.preferNondistLayers: parseBoolAttr(k, v); break; // no layers in a rootfs tarball
          default: throw unknownAttr("tar", k);
        }
      }
      return new TarExporterInstance({ dest: checkTarDest("tar", dest, stdout), epoch }, stdout);
    },
  };
}

class TarExporterInstance implements ExporterInstance {
  readonly type = "tar";
  readonly name = "exporting to client tarball";
  readonly #attrs: TarAttrs;
  readonly #stdout: Writable;

  constructor(attrs: TarAttrs, stdout: Writable) {
    this.#attrs = attrs;
    this.#stdout = stdout;
  }

  /** Writes the rootfs tar; with `source-date-epoch`, every entry's mtime is that time (as upstream). */
  async export(source: ExportSource, opts: ExportOptions = {}): Promise<ExportResult> {
    const { dest, epoch } = this.#attrs;
    const { out, end } = await openTarDest(dest, this.#stdout);
    try {
      await withStatus(opts.progress, "sending tarball", () => source.withRootfs((rootfs) => writeLayerTar(rootfs, out, {
        signal: opts.signal,
        overlayWhiteouts: false,
        fixedMtime: epoch === undefined ? undefined : Math.floor(epoch.getTime() / 1000),
        end,
      })));
    } catch (err) {
      if (end) out.destroy(); // the file we opened; stdout stays the caller's
      throw err;
    }
    return { response: {} };
  }
}
