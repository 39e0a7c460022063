// `docker-image://` sources: resolve the reference for the op's platform, pull the blobs, unpack the layers.
// The cache key is the manifest digest, so a re-pushed tag misses and a pinned digest needs no network.
import type { SourceOp } from "../gen/pb/ops_pb.js";
import { parseReference } from "../oci/reference.js";
import { formatPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import { pullImage } from "../registry/image-puller.js";
import type { ResolvedImage } from "../registry/resolver.js";
import type { CacheMap, Op, OpContext } from "../solver/types.js";
import { sha256 } from "../util/digest.js";
import type { OpDeps } from "./op-deps.js";
import { WorkerRef } from "./worker-ref.js";

export function createImageSourceOp(src: SourceOp, platform: Platform, deps: OpDeps): Op<WorkerRef> {
  const refText = src.identifier.slice("docker-image://".length);
  const ref = parseReference(refText);
  let resolved: Promise<ResolvedImage> | undefined;
  const resolve = (ctx: OpContext): Promise<ResolvedImage> => {
    resolved ??= deps.resolver.resolve(ref, { platform, signal: ctx.signal });
    resolved.catch(() => (resolved = undefined));
    return resolved;
  };
  return {
    async cacheMap(ctx: OpContext): Promise<CacheMap<WorkerRef>> {
      const digest = ref.digest ?? (await resolve(ctx)).digest;
      return { digest: sha256(`docker-image\0${ref.registry}/${ref.repository}@${digest}\0${formatPlatform(platform)}`), deps: [] };
    },
    async exec(ctx: OpContext): Promise<WorkerRef[]> {
      const image = await resolve(ctx);
      await pullImage(deps.registry, image, {
        contentStore: deps.content,
        signal: ctx.signal,
        onProgress: (layer, current, total) => {
          if (current >= total) ctx.progress.statusDone(layer, current, total);
          else ctx.progress.status(layer, current, total);
        },
      });
      const top = await deps.imageLayers.unpack(image.manifest.layers, image.config.rootfs.diff_ids, {
        signal: ctx.signal,
        onLayer: (layer, done) => (done ? ctx.progress.statusDone(`extracting ${layer}`) : ctx.progress.status(`extracting ${layer}`, 0, 0)),
      });
      // `image.recordtype` marks images the engine uses for itself (frontend images): prune keeps them unless --all.
      const recordType = src.attrs["image.recordtype"];
      if (top && (recordType === "internal" || recordType === "frontend")) deps.refs.describe(top, { recordType });
      return [new WorkerRef(top)];
    },
  };
}
