// The `image` exporter (`type=image`, and `type=registry`, which the CLI maps to `type=image,push=true`):
// builds the image in the content store like the oci exporter, then with `push=true` pushes it to each
// name. There is no local image store, so without `push` it only assembles the image and reports digests.
import type { ContentStore } from "../content/content-store.js";
import { parseReference, type Reference } from "../oci/reference.js";
import type { Descriptor } from "../oci/types.js";
import { dockerConfigCredentials } from "../registry/docker-config-auth.js";
import { pushImage, type PushImageOptions, type PushProgress } from "../registry/image-pusher.js";
import { RegistryClient } from "../registry/registry-client.js";
import { GantryError } from "../util/errors.js";
import { withStatus } from "./destination.js";
import type { ExportOptions, ExportResult, ExportSource, Exporter, ExporterInstance } from "./exporter.js";
import { parseImageAttrs, type ImageAttrs, type ImageOnlyAttrs } from "./image-attrs.js";
import { commitImage, imageResponse } from "./image-commit.js";
import { checkSinglePlatformAttrs, commitImageIndex, indexResponse } from "./image-index.js";
import { LayerBlobCache, type LayerBlob } from "./layer-blobs.js";

export interface ImagePushExporterDeps {
  store: ContentStore;
  /** Shared with the oci/docker exporters so layer blobs are made once. */
  layerBlobs?: LayerBlobCache;
  /** The registry client to push with (auth state shared with pulls); one is made if absent. */
  registry?: RegistryClient;
  /** The clock (tests pin it). */
  now?: () => Date;
}

/** The `image` exporter; see the file comment. */
export function createImageExporter(deps: ImagePushExporterDeps): Exporter {
  const layerBlobs = deps.layerBlobs ?? new LayerBlobCache(deps.store);
  let registry = deps.registry;
  return {
    async resolve(raw: Record<string, string>): Promise<ExporterInstance> {
      const attrs = parseImageAttrs("image", raw);
      const image = attrs.image as ImageOnlyAttrs;
      if (image.push && attrs.names.length === 0) {
        throw new GantryError("InvalidArgument", "The image exporter with push=true needs a name attr naming where to push.");
      }
      const refs = attrs.names.map((n) => parseReference(n));
      registry ??= new RegistryClient({ credentials: dockerConfigCredentials() });
      const client = image.insecure
        ? new RegistryClient({ credentials: dockerConfigCredentials(), insecure: [...new Set(refs.map((r) => r.registry))] })
        : registry;
      return new ImageExporterInstance(attrs, image, refs, { ...deps, layerBlobs, registry: client });
    },
  };
}

class ImageExporterInstance implements ExporterInstance {
  readonly type = "image";
  readonly name = "exporting to image";
  readonly #attrs: ImageAttrs;
  readonly #image: ImageOnlyAttrs;
  readonly #refs: Reference[];
  readonly #deps: ImagePushExporterDeps & { layerBlobs: LayerBlobCache; registry: RegistryClient };

  constructor(attrs: ImageAttrs, image: ImageOnlyAttrs, refs: Reference[],
    deps: ImagePushExporterDeps & { layerBlobs: LayerBlobCache; registry: RegistryClient }) {
    this.#attrs = attrs;
    this.#image = image;
    this.#refs = refs;
    this.#deps = deps;
  }

  /** See `ExporterInstance.export`; the push, if any, runs in `finalize`. */
  async export(source: ExportSource, opts: ExportOptions = {}): Promise<ExportResult> {
    checkSinglePlatformAttrs(this.#attrs);
    const committed = await commitImage(this.#deps, this.#attrs, source, opts);
    const names = this.#named(committed.manifest, opts);
    const response = imageResponse(committed.manifest, committed.config.digest, names);
    const push = { manifest: committed.manifest, config: committed.config, layers: committed.layers.map(layerDescriptor) };
    if (!this.#image.push) return { response };
    return { response, finalize: (f) => this.#push(push, { ...opts, signal: f.signal ?? opts.signal }) };
  }

  /** See `ExporterInstance.exportPlatforms`: the index goes where a single manifest would. */
  async exportPlatforms(sources: readonly ExportSource[], opts: ExportOptions = {}): Promise<ExportResult> {
    const { index, images } = await commitImageIndex(this.#deps, this.#attrs, sources, opts);
    const names = this.#named(index, opts);
    const response = indexResponse(index, names);
    const children = images.map((img) => ({ manifest: img.manifest, config: img.config, layers: img.layers.map(layerDescriptor) }));
    if (!this.#image.push) return { response };
    return { response, finalize: (f) => this.#push({ manifest: index, children }, { ...opts, signal: f.signal ?? opts.signal }) };
  }

  /** The names to report for `manifest`, shown as `naming to …`. */
  #named(manifest: Descriptor, opts: ExportOptions): string[] {
    if (this.#image.unpack) opts.progress?.statusDone("unpack=true ignored: this worker has no image store to unpack into");
    const names = this.#responseNames(manifest);
    for (const name of names) opts.progress?.statusDone(`naming to ${name}`);
    return names;
  }

  /** `name` (plus `name@digest` with name-canonical), or `<dangling-name-prefix>@digest` when unnamed. */
  #responseNames(manifest: Descriptor): string[] {
    if (this.#refs.length === 0) {
      const prefix = this.#image.danglingNamePrefix;
      return prefix ? [`${prefix}@${manifest.digest}`] : [];
    }
    const names = this.#image.pushByDigest ? this.#refs.map((r) => r.name) : this.#attrs.names;
    if (!this.#image.nameCanonical) return [...names];
    return [...names, ...this.#refs.map((r) => `${r.name}@${manifest.digest}`)];
  }

  async #push(image: Pick<PushImageOptions, "manifest" | "config" | "layers" | "children">, opts: ExportOptions): Promise<void> {
    const progress = opts.progress;
    const onProgress = (e: PushProgress): void => {
      if (e.kind === "manifest") progress?.statusDone(`pushing manifest for ${e.target}`);
      else progress?.statusDone(`pushing ${e.digest} to ${e.target}: ${e.outcome === "exists" ? "already exists" : e.outcome}`);
    };
    const result = await withStatus(progress, "pushing layers", () => pushImage(this.#deps.registry, {
      ...image,
      names: this.#refs,
      contentStore: this.#deps.store,
      byDigest: this.#image.pushByDigest,
      signal: opts.signal,
      onProgress,
    }));
    progress?.statusDone(`pushed ${result.uploaded} blobs, mounted ${result.mounted}, ${result.existed} already present`);
  }
}

/** A layer blob as the pusher needs it (the manifest carries the media type). */
function layerDescriptor(l: LayerBlob): Descriptor {
  return { mediaType: "", digest: l.digest, size: l.size };
}
