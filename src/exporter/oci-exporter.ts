// The `oci` and `docker` exporters: build the image (layer blobs, config, manifest) in the content store,
// then write it as an OCI image layout tarball (docker's adds `manifest.json` for `docker load`), or as an
// OCI layout directory with `tar=false`.
import type { Writable } from "node:stream";
import type { ContentStore } from "../content/content-store.js";
import { writeImageLayoutDir, writeImageLayoutTar, IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION } from "../oci/image-layout.js";
import type { Descriptor } from "../oci/types.js";
import { GantryError } from "../util/errors.js";
import { checkTarDest, openTarDest, withStatus } from "./destination.js";
import type { ExportOptions, ExportResult, ExportSource, Exporter, ExporterInstance } from "./exporter.js";
import { parseImageAttrs, type ImageAttrs } from "./image-attrs.js";
import { descriptorJson } from "./image-assembly.js";
import { commitImage, imageResponse } from "./image-commit.js";
import { checkSinglePlatformAttrs, commitImageIndex, indexResponse } from "./image-index.js";
import { ociRefName } from "./image-names.js";
import { LayerBlobCache } from "./layer-blobs.js";

export interface ImageExporterDeps {
  store: ContentStore;
  /** Shared so blobs made for one export are reused by the next; one is created if absent. */
  layerBlobs?: LayerBlobCache;
  /** Where `dest=-` writes (default process.stdout). */
  stdout?: Writable & { isTTY?: boolean };
  /** The clock (tests pin it). */
  now?: () => Date;
}

type Variant = "oci" | "docker";
type ResolvedDeps = ImageExporterDeps & Required<Pick<ImageExporterDeps, "layerBlobs" | "stdout">>;

/** The `oci` exporter: OCI media types by default. */
export function createOciExporter(deps: ImageExporterDeps): Exporter {
  return createImageLayoutExporter("oci", deps);
}

/** The `docker` exporter: Docker media types by default, plus `manifest.json` for `docker load`. */
export function createDockerExporter(deps: ImageExporterDeps): Exporter {
  return createImageLayoutExporter("docker", deps);
}

function createImageLayoutExporter(variant: Variant, deps: ImageExporterDeps): Exporter {
  const layerBlobs = deps.layerBlobs ?? new LayerBlobCache(deps.store);
  const stdout = deps.stdout ?? process.stdout;
  return {
    async resolve(raw: Record<string, string>): Promise<ExporterInstance> {
      const attrs = parseImageAttrs(variant, raw);
      if (attrs.tar) checkTarDest(variant, attrs.dest, stdout);
      else if (!attrs.dest || attrs.dest === "-") {
        throw new GantryError("InvalidArgument", `The ${variant} exporter with tar=false needs a dest attr naming a directory.`);
      }
      return new ImageLayoutExporterInstance(variant, attrs, { ...deps, layerBlobs, stdout });
    },
  };
}

class ImageLayoutExporterInstance implements ExporterInstance {
  readonly type: string;
  readonly name: string;
  readonly #attrs: ImageAttrs;
  readonly #deps: ResolvedDeps;

  constructor(variant: Variant, attrs: ImageAttrs, deps: ResolvedDeps) {
    this.type = variant;
    this.name = `exporting to ${variant} image format`;
    this.#attrs = attrs;
    this.#deps = deps;
    // A docker tarball's manifest.json lists images, not indexes; upstream refuses manifest lists there too.
    if (variant === "oci") this.exportPlatforms = (sources, opts) => this.#writePlatforms(sources, opts);
  }

  readonly exportPlatforms?: ExporterInstance["exportPlatforms"];

  /** See `ExporterInstance.export`. */
  async export(source: ExportSource, opts: ExportOptions = {}): Promise<ExportResult> {
    checkSinglePlatformAttrs(this.#attrs);
    const desc = await commitImage(this.#deps, this.#attrs, source, opts);
    await this.#write(this.#indexEntries(desc.manifest), opts);
    return { response: imageResponse(desc.manifest, desc.config.digest, this.#attrs.names) };
  }

  async #writePlatforms(sources: readonly ExportSource[], opts: ExportOptions = {}): Promise<ExportResult> {
    const { index } = await commitImageIndex(this.#deps, this.#attrs, sources, opts);
    await this.#write(this.#indexEntries(index), opts);
    return { response: indexResponse(index, this.#attrs.names) };
  }

  /** The layout with `entries` in index.json, as a tarball or a directory. */
  async #write(entries: Descriptor[], opts: ExportOptions): Promise<void> {
    const a = this.#attrs;
    const dest = a.dest as string;
    if (a.tar) {
      const { out, end } = await openTarDest(dest, this.#deps.stdout);
      await withStatus(opts.progress, "sending tarball", () => writeImageLayoutTar(out, {
        provider: this.#deps.store, manifests: entries, dockerCompat: this.type === "docker", end, signal: opts.signal,
      }));
    } else {
      await withStatus(opts.progress, `exporting to ${dest}`, () =>
        writeImageLayoutDir(dest, { provider: this.#deps.store, manifests: entries, signal: opts.signal }));
    }
  }

  /** One index.json entry per name (none named: one unnamed entry), as containerd's archive writer does. */
  #indexEntries(manifest: Descriptor): Descriptor[] {
    if (this.#attrs.names.length === 0) return [descriptorJson(manifest)];
    return this.#attrs.names.map((name) => descriptorJson({
      ...manifest,
      annotations: { ...manifest.annotations, [IMAGE_NAME_ANNOTATION]: name, [REF_NAME_ANNOTATION]: ociRefName(name) },
    }));
  }
}
