// What the worker gives every op: the stores, the executor and the limits. Chosen in control/.
import type { ContentStore } from "../content/content-store.js";
import type { RefManager } from "../cache/ref-manager.js";
import type { Executor } from "../executor/executor.js";
import type { Resolver } from "../registry/resolver.js";
import type { RegistryClient } from "../registry/registry-client.js";
import type { Limiter } from "../util/limiter.js";
import type { ImageLayerCache } from "./image-layer-cache.js";

export interface OpDeps {
  refs: RefManager;
  content: ContentStore;
  registry: RegistryClient;
  resolver: Resolver;
  executor: Executor;
  /** Bounds concurrent containers (default: CPU count). */
  execLimiter: Limiter;
  /** Unpacked image layers by chain id, shared by all builds. */
  imageLayers: ImageLayerCache;
  /** `overlay` when snapshot mounts are overlayfs (layer content is written to the upper dir). */
  snapshotterKind: "overlay" | "copy";
  /** Directory for per-run scratch files (secrets); the controller empties it at start. */
  tmpDir: string;
  /** Directory holding cache mounts (`RUN --mount=type=cache`), one folder per id. */
  cacheMountDir: string;
}
