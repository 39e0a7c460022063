// The image config an image exporter writes: the frontend's config (or a default one) with rootfs set
// from the layers and history made to match them, following upstream's writer.go
// (normalizeLayersAndHistory + patchImageConfig): every field the frontend set is kept as given.
import type { HistoryEntry, Platform } from "../oci/types.js";
import type { Digest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import { goMarshalMap, goTime } from "./go-json.js";
import { BUILDINFO_CONFIG_KEY } from "./keys.js";

/** What is known of each layer beyond its diffID, aligned with `diffIds`. */
export interface LayerHistoryInfo {
  description?: string;
  createdAt?: Date;
}

export interface ImageConfigInput {
  /** The frontend's `containerimage.config` JSON; absent means upstream's default config. */
  imageConfig?: Uint8Array;
  platform: Platform;
  diffIds: Digest[];
  layerInfo: LayerHistoryInfo[];
  /** SOURCE_DATE_EPOCH: history and `created` later than this are clamped to it. */
  epoch?: Date;
  /** Stand-in for a layer's unknown creation time. */
  now: Date;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const HISTORY_COMMENT = "buildkit.exporter.image.v0";

/** Upstream's config for a result without one: the platform, the default PATH and WorkingDir "/". */
export function defaultImageConfig(p: Platform): Record<string, unknown> {
  return {
    architecture: p.architecture,
    ...(p.variant ? { variant: p.variant } : {}),
    os: p.os,
    ...(p["os.version"] ? { "os.version": p["os.version"] } : {}),
    config: { Env: [DEFAULT_PATH], WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: null },
  };
}

function parseConfig(raw: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw).toString("utf8"));
  } catch (err) {
    throw new GantryError("InvalidArgument", "Invalid image config for export: it is not JSON.", { cause: err });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new GantryError("InvalidArgument", "Invalid image config for export: it is not a JSON object.");
  }
  return parsed as Record<string, unknown>;
}

function readHistory(m: Record<string, unknown>): HistoryEntry[] | null {
  const h = m.history;
  if (h === undefined || h === null) return null;
  if (!Array.isArray(h)) throw new GantryError("InvalidArgument", "Invalid image config for export: history is not a list.");
  return h.map((e: unknown) => ({ ...(e as HistoryEntry) }));
}

/** Builds the config bytes (Go-marshalled, top-level keys sorted as upstream's map marshal does). */
export function buildImageConfig(input: ImageConfigInput): Buffer {
  const m = input.imageConfig && input.imageConfig.length > 0 ? parseConfig(input.imageConfig) : defaultImageConfig(input.platform);
  if (typeof m.os !== "string" || m.os === "") throw new GantryError("InvalidArgument", "Invalid image config for export: missing os.");
  if (typeof m.architecture !== "string" || m.architecture === "") {
    throw new GantryError("InvalidArgument", "Invalid image config for export: missing architecture.");
  }
  const given = readHistory(m);
  const history = normalizeHistory(given ?? [], input);
  if (input.epoch) clampHistory(history, input.epoch);

  m.rootfs = { type: "layers", diff_ids: input.diffIds.length > 0 ? input.diffIds : null };
  m.history = given === null && history.length === 0 ? null : history.map(historyJson);
  if (m.created !== undefined && m.created !== null && input.epoch && typeof m.created === "string" &&
    Date.parse(m.created) > input.epoch.getTime()) {
    m.created = goTime(input.epoch);
  }
  if (!("created" in m)) {
    let last: string | null = null;
    for (const h of history) if (h.created) last = h.created;
    m.created = last;
  }
  delete m[BUILDINFO_CONFIG_KEY];
  return Buffer.from(goMarshalMap(m));
}

/** Makes the non-empty history entries match the layers and fills in `created` like upstream. */
export function normalizeHistory(history: HistoryEntry[], input: Pick<ImageConfigInput, "diffIds" | "layerInfo" | "now">): HistoryEntry[] {
  const nLayers = input.diffIds.length;
  const meta = input.diffIds.map((_, i) => ({
    description: input.layerInfo[i]?.description || "created by buildkit",
    created: goTime(input.layerInfo[i]?.createdAt ?? input.now),
  }));
  let out = history.map((h) => ({ ...h }));
  const historyLayers = out.filter((h) => !h.empty_layer).length;
  if (historyLayers > nLayers) {
    // More layer entries than layers: mark the surplus, from the bottom up, as empty.
    let l = 0;
    out = out.map((h) => {
      const e = l >= nLayers ? { ...h, empty_layer: true } : h;
      if (!e.empty_layer) l++;
      return e;
    });
  } else if (nLayers > historyLayers) {
    for (const md of meta.slice(historyLayers)) out.push({ created: md.created, created_by: md.description, comment: HISTORY_COMMENT });
  }
  let layerIndex = 0;
  for (const h of out) {
    if (h.empty_layer) continue;
    if (!h.created) h.created = meta[layerIndex]?.created;
    layerIndex++;
  }
  fillCreated(out);
  return out;
}

/** Entries without a time get the first time after a gap (the first new layer) or the one before. */
function fillCreated(history: HistoryEntry[]): void {
  let created: string | undefined;
  let gap = false;
  for (const h of history) {
    if (h.created) {
      created = h.created;
      if (gap) break;
    } else {
      gap = true;
    }
  }
  gap = false;
  for (const h of history) {
    if (h.created) {
      if (gap) created = h.created;
    } else {
      gap = true;
      if (created !== undefined) h.created = created;
    }
  }
}

function clampHistory(history: HistoryEntry[], epoch: Date): void {
  for (const h of history) {
    if (!h.created || Date.parse(h.created) > epoch.getTime()) h.created = goTime(epoch);
  }
}

/** A history entry in Go's field order with empty fields omitted (`omitempty`). */
function historyJson(h: HistoryEntry): HistoryEntry {
  const out: HistoryEntry = {};
  if (h.created) out.created = h.created;
  if (h.created_by) out.created_by = h.created_by;
  if (h.author) out.author = h.author;
  if (h.comment) out.comment = h.comment;
  if (h.empty_layer) out.empty_layer = true;
  return out;
}
