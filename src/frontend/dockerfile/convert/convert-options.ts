// The converter's inputs and the frontend attrs (`--opt`) it reads: target, build-arg:*, label:*,
// platform, no-cache.

import type { ResolvedImageConfig } from "../../frontend.js";
import type { Platform } from "../../../oci/types.js";
import type { State } from "../../../llb/state.js";
import { parsePlatform } from "../../../oci/platform.js";
import { GantryError, type SourceRange } from "../../../util/errors.js";
import type { CheckWarnFn } from "../checks/linter.js";
import type { DockerImage } from "./image-config.js";

/** Resolves an image reference to its config (the bridge's resolveImageConfig). */
export type ImageConfigResolver = (ref: string, opts: { platform?: Platform; signal?: AbortSignal }) => Promise<ResolvedImageConfig>;

/** A named context given by the client: a state and, for images, their config. */
export interface NamedContext {
  state: State;
  image?: DockerImage;
}

/** Looks up a named context (`context:NAME=…`); undefined when none is given for the name. */
export type NamedContextResolver = (name: string, platform: Platform) => Promise<NamedContext | undefined>;

/** A warning to show after the build (build checks), in the bridge's shape. */
export interface ConvertWarning {
  short: string;
  detail?: string[];
  url?: string;
  level?: number;
  location?: { filename: string; line: number };
  ranges?: SourceRange[];
}

/** Options of `dockerfileToLLB`. Only `resolveImageConfig` is required. */
export interface ConvertOptions {
  /** Frontend attrs: `target`, `build-arg:K`, `label:K`, `platform`, `no-cache`. */
  attrs?: Record<string, string>;
  /** Dockerfile name used in error locations (default `Dockerfile`). */
  filename?: string;
  /** Name of the local source holding the build context (default `context`). */
  contextName?: string;
  resolveImageConfig: ImageConfigResolver;
  namedContexts?: NamedContextResolver;
  /** Target platform; the `platform` attr or the build platform by default. */
  platform?: Platform;
  /** Platform of the worker (BUILDPLATFORM); the host's by default. */
  buildPlatform?: Platform;
  /** Patterns from .dockerignore, sent as the context's exclude patterns. */
  dockerignorePatterns?: string[];
  /**
   * Receives each build check violation as it is found (so those before a build error are not lost).
   * Without it they are collected in `ConvertResult.warnings`.
   */
  onCheckWarning?: CheckWarnFn;
  /** Resolve and dispatch every stage, not only those the target needs (the lint subrequest's mode). */
  allStages?: boolean;
  /** `local.unique` for the context source; random per marshal when absent. */
  localUniqueId?: string;
  signal?: AbortSignal;
}

/** What the attrs say, parsed once. */
export interface FrontendSettings {
  target: string;
  buildArgs: Map<string, string>;
  labels: Map<string, string>;
  /** Explicit target platform, if any. */
  platform?: Platform;
  /** undefined: cache on; empty: no cache at all; else stage names. */
  ignoreCache?: string[];
}

/** Reads the attrs. Throws InvalidArgument for a bad platform or more than one platform. */
export function readFrontendSettings(attrs: Record<string, string>): FrontendSettings {
  const buildArgs = new Map<string, string>();
  const labels = new Map<string, string>();
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("build-arg:")) buildArgs.set(k.slice("build-arg:".length), v);
    else if (k.startsWith("label:")) labels.set(k.slice("label:".length), v);
  }
  const settings: FrontendSettings = { target: attrs.target ?? "", buildArgs, labels };
  const platforms = (attrs.platform ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (platforms.length > 1) {
    throw new GantryError("Unimplemented", `Multi-platform builds (${attrs.platform}) are not supported by this frontend yet.`);
  }
  if (platforms.length === 1) settings.platform = parsePlatform(platforms[0]);
  if (attrs["no-cache"] !== undefined) {
    settings.ignoreCache = attrs["no-cache"].split(",").map((s) => s.trim()).filter((s) => s !== "");
  }
  return settings;
}
