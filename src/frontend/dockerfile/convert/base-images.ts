// Resolves each stage's base: scratch, another stage, a named context, or an image whose config is
// fetched (only for stages the target needs) and whose source is pinned by digest.

import { image, scratch } from "../../../llb/state.js";
import { parseImageRef } from "../../../llb/image-ref.js";
import type { Platform } from "../../../oci/types.js";
import { GantryError, messageOf } from "../../../util/errors.js";
import type { ImageConfigResolver, NamedContextResolver } from "./convert-options.js";
import { isReachable, type DispatchState, type DispatchStates } from "./dispatch-state.js";
import { emptyImage, parseImageConfig } from "./image-config.js";
import { locationError } from "./location-error.js";
import { withSuggestion } from "../instructions/suggest.js";
import { SCRATCH } from "./stage-graph.js";
import { prefixCommand } from "./vertex-names.js";

const COMMON_IMAGES = ["alpine", "busybox", "centos", "debian", "golang", "ubuntu", "fedora"].flatMap((n) =>
  [n, `docker.io/library/${n}`, `${n}:latest`, `docker.io/library/${n}:latest`]);

/** What resolving bases needs. */
export interface BaseImageOptions {
  resolveImageConfig: ImageConfigResolver;
  namedContexts?: NamedContextResolver;
  targetPlatform: Platform;
  filename: string;
  /** Fetch the config of every stage's base, not only those the target needs. */
  allStages?: boolean;
  signal?: AbortSignal;
}

/** Sets `state`, `image` and `platform` of every stage not built on another stage, concurrently. */
export async function resolveBaseImages(all: DispatchStates, target: DispatchState, opts: BaseImageOptions): Promise<void> {
  const stageNames = all.states.map((s) => s.stageName).filter((n) => n !== "");
  const work: Promise<void>[] = [];
  for (const d of all.states) {
    if (d.base !== undefined || d.noinit) continue;
    if (d.stage.baseName === SCRATCH) {
      d.state = scratch();
      d.image = emptyImage(opts.targetPlatform);
      continue;
    }
    work.push(resolveOne(d, opts.allStages === true || isReachable(target, d), stageNames, opts).catch((err: unknown) => {
      throw locationError(opts.filename, d.stage.location, messageOf(err), err);
    }));
  }
  await Promise.all(work);
}

async function resolveOne(d: DispatchState, reachable: boolean, stageNames: string[], opts: BaseImageOptions): Promise<void> {
  const origName = d.stage.baseName;
  let ref;
  try {
    ref = parseImageRef(origName);
  } catch (err) {
    throw new GantryError("InvalidArgument", `failed to parse stage name "${origName}": ${messageOf(err)}`, { cause: err });
  }
  const platform = d.platform ?? opts.targetPlatform;
  const named = `${ref.domain}/${ref.path}`;
  let baseName = `${named}${ref.tag !== undefined ? `:${ref.tag}` : ref.digest === undefined ? ":latest" : ""}${ref.digest ? `@${ref.digest}` : ""}`;
  const ctx = opts.namedContexts ? await opts.namedContexts(baseName, platform) : undefined;
  if (ctx !== undefined) {
    d.image = ctx.image ?? emptyImage(opts.targetPlatform);
    d.state = ctx.state.platform(platform);
    d.platform = platform;
    return;
  }
  let isScratch = false;
  if (reachable) {
    let resolved;
    try {
      resolved = await opts.resolveImageConfig(baseName, { platform, ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      const msg = withSuggestion(`${origName}: ${messageOf(err)}`, origName, [...stageNames, ...COMMON_IMAGES], true);
      throw new GantryError(err instanceof GantryError ? err.code : "Unavailable", msg, { cause: err });
    }
    const img = parseImageConfig(resolved.config);
    delete img.created;
    if (resolved.digest) baseName = `${named}${ref.tag !== undefined ? `:${ref.tag}` : ""}@${resolved.digest}`;
    isScratch = (img.rootfs.diff_ids ?? []).length === 0 && img.history.every((h) => h.empty_layer === true);
    d.image = img;
  }
  d.stage = { ...d.stage, baseName };
  d.state = isScratch ? scratch() : image(baseName, {
    platform,
    customName: prefixCommand(d, `FROM ${baseName}`),
    description: { "com.docker.dockerfile.v1.command": d.stage.sourceCode },
  });
  d.platform = platform;
}
