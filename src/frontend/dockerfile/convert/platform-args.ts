// The automatic platform ARGs (TARGETPLATFORM, TARGETOS… BUILDPLATFORM…) upstream predefines.

import { formatPlatform } from "../../../oci/platform.js";
import type { Platform } from "../../../oci/types.js";
import type { ArgPair } from "../instructions/commands.js";

/** The eight platform args for a build and a target platform, in a fixed order. */
export function platformArgs(build: Platform, target: Platform): ArgPair[] {
  return [
    { key: "BUILDPLATFORM", value: formatPlatform(build) },
    { key: "BUILDOS", value: build.os },
    { key: "BUILDARCH", value: build.architecture },
    { key: "BUILDVARIANT", value: build.variant ?? "" },
    { key: "TARGETPLATFORM", value: formatPlatform(target) },
    { key: "TARGETOS", value: target.os },
    { key: "TARGETARCH", value: target.architecture },
    { key: "TARGETVARIANT", value: target.variant ?? "" },
  ];
}
