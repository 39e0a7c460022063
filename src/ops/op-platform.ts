import type { Op } from "../gen/pb/ops_pb.js";
import type { Platform } from "../oci/types.js";
import { normalizePlatform } from "../oci/platform.js";

/** The op's own platform, else the build's default. */
export function opPlatform(op: Op, fallback: Platform): Platform {
  const p = op.platform;
  if (!p || !p.OS || !p.Architecture) return fallback;
  return normalizePlatform({ os: p.OS, architecture: p.Architecture, ...(p.Variant ? { variant: p.Variant } : {}) });
}
