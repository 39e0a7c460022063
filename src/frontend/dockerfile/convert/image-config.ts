// The image config the Dockerfile frontend builds (upstream's image.Image of v0.11.6): parsed from the
// base image, changed by instructions, and marshalled with Go's field order and omitempty rules.

import type { ContainerConfig, HealthConfig, Platform } from "../../../oci/types.js";
import { encodeGoJson, type GoJson, type GoJsonStruct } from "../../../llb/go-json.js";
import { GantryError, messageOf } from "../../../util/errors.js";

export const DEFAULT_PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const WINDOWS_PATH_ENV = "c:\\Windows\\System32;c:\\Windows";

/** Docker's HEALTHCHECK block; durations in nanoseconds. */
export type HealthcheckJson = HealthConfig;

/** The `config` block (the OCI shape plus Docker's StopTimeout). */
export interface ImageConfigBlock extends ContainerConfig {
  StopTimeout?: number;
}

/** One history entry. */
export interface HistoryJson {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The whole image config as the frontend reports it (`containerimage.config`). */
export interface DockerImage {
  created?: string;
  author?: string;
  architecture: string;
  variant?: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  config: ImageConfigBlock;
  rootfs: { type: string; diff_ids: string[] | null };
  history: HistoryJson[];
}

/** Upstream's default PATH for an OS. */
export function defaultPathEnv(os: string | undefined): string {
  return os === "windows" ? WINDOWS_PATH_ENV : DEFAULT_PATH_ENV;
}

/** The config of a stage FROM scratch: the platform, default PATH and WorkingDir "/". */
export function emptyImage(platform: Platform): DockerImage {
  return {
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: { Env: [`PATH=${defaultPathEnv(platform.os)}`], WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: null },
    history: [],
  };
}

/** Reads a base image's config JSON; `created` is dropped as upstream does. Throws InvalidArgument. */
export function parseImageConfig(raw: Uint8Array): DockerImage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(raw));
  } catch (err) {
    throw new GantryError("InvalidArgument", `failed to parse image config: ${messageOf(err)}`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new GantryError("InvalidArgument", "failed to parse image config: it is not a JSON object");
  }
  const img = parsed as Partial<DockerImage>;
  const out: DockerImage = {
    architecture: img.architecture ?? "",
    os: img.os ?? "",
    config: { ...(img.config ?? {}) },
    rootfs: { type: img.rootfs?.type ?? "", diff_ids: img.rootfs?.diff_ids ?? null },
    history: (img.history ?? []).map((h) => ({ ...h })),
  };
  if (img.author) out.author = img.author;
  if (img.variant) out.variant = img.variant;
  if (img["os.version"]) out["os.version"] = img["os.version"];
  if (img["os.features"]) out["os.features"] = [...img["os.features"]];
  return out;
}

/** A deep enough copy that a child stage never changes its parent's config. */
export function cloneImage(src: DockerImage): DockerImage {
  return structuredClone(src);
}

/** Sets `k=v` in an env list, replacing the entry in place when the key exists (upstream addEnv). */
export function addEnv(env: readonly string[], k: string, v: string): string[] {
  const out = [...env];
  const i = out.findIndex((e) => envKey(e) === k);
  if (i >= 0) out[i] = `${k}=${v}`;
  else out.push(`${k}=${v}`);
  return out;
}

/** The key of a `k=v` entry. */
export function envKey(entry: string): string {
  const eq = entry.indexOf("=");
  return eq < 0 ? entry : entry.slice(0, eq);
}

/** Marshals the image like Go's encoding/json of upstream's struct (field order, omitempty, null OnBuild). */
export function marshalImageConfig(img: DockerImage): Uint8Array {
  const out: GoJsonStruct = {};
  if (img.created) out.created = img.created;
  if (img.author) out.author = img.author;
  out.architecture = img.architecture;
  if (img.variant) out.variant = img.variant;
  out.os = img.os;
  if (img["os.version"]) out["os.version"] = img["os.version"];
  if (img["os.features"]?.length) out["os.features"] = img["os.features"];
  out.config = configJson(img.config);
  out.rootfs = { type: img.rootfs.type, diff_ids: img.rootfs.diff_ids };
  if (img.history.length > 0) out.history = img.history.map(historyJson);
  return new TextEncoder().encode(encodeGoJson(out));
}

function configJson(c: ImageConfigBlock): GoJsonStruct {
  const out: GoJsonStruct = {};
  const set = (k: string, v: GoJson | undefined, keep: boolean): void => {
    if (keep && v !== undefined) out[k] = v;
  };
  set("User", c.User, !!c.User);
  set("ExposedPorts", emptyMap(c.ExposedPorts), !!c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0);
  set("Env", c.Env, !!c.Env?.length);
  set("Entrypoint", c.Entrypoint ?? undefined, !!c.Entrypoint?.length);
  set("Cmd", c.Cmd ?? undefined, !!c.Cmd?.length);
  set("Volumes", emptyMap(c.Volumes), !!c.Volumes && Object.keys(c.Volumes).length > 0);
  set("WorkingDir", c.WorkingDir, !!c.WorkingDir);
  set("Labels", c.Labels ? new Map(Object.entries(c.Labels)) : undefined, !!c.Labels && Object.keys(c.Labels).length > 0);
  set("StopSignal", c.StopSignal, !!c.StopSignal);
  set("ArgsEscaped", true, c.ArgsEscaped === true);
  if (c.Healthcheck) out.Healthcheck = healthJson(c.Healthcheck);
  out.OnBuild = c.OnBuild ?? null;
  set("StopTimeout", c.StopTimeout, c.StopTimeout !== undefined);
  set("Shell", c.Shell, !!c.Shell?.length);
  return out;
}

function healthJson(h: HealthcheckJson): GoJsonStruct {
  const out: GoJsonStruct = {};
  if (h.Test?.length) out.Test = h.Test;
  for (const k of ["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"] as const) {
    const v = h[k];
    if (v) out[k] = v;
  }
  return out;
}

function emptyMap(m: Record<string, Record<string, never>> | undefined): GoJson | undefined {
  if (m === undefined) return undefined;
  return new Map(Object.keys(m).map((k) => [k, {}] as [string, GoJson]));
}

function historyJson(h: HistoryJson): GoJsonStruct {
  const out: GoJsonStruct = {};
  if (h.created) out.created = h.created;
  if (h.created_by) out.created_by = h.created_by;
  if (h.author) out.author = h.author;
  if (h.comment) out.comment = h.comment;
  if (h.empty_layer) out.empty_layer = true;
  return out;
}
