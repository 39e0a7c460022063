import { arch } from "node:process";
import type { Platform } from "./types.js";
import { GantryError } from "../util/errors.js";

const NODE_TO_OCI_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** The platform this process runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const architecture = NODE_TO_OCI_ARCH[arch] ?? arch;
  return architecture === "arm64" ? { os: "linux", architecture, variant: "v8" } : { os: "linux", architecture };
}

/** Fills in the defaults containerd applies (arm64 → v8, arm → v7) so platforms compare reliably. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant;
  if (architecture === "aarch64") architecture = "arm64";
  if (architecture === "x86_64" || architecture === "x86-64") architecture = "amd64";
  if (architecture === "arm64" && !variant) variant = "v8";
  if (architecture === "arm" && !variant) variant = "v7";
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  return variant ? { ...p, os, architecture, variant } : { ...stripVariant(p), os, architecture };
}

function stripVariant(p: Platform): Platform {
  const { variant: _v, ...rest } = p;
  return rest;
}

/** Parses `linux/amd64`, `linux/arm/v7`, `linux`; throws InvalidArgument naming the input. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.trim().split("/");
  if (parts.length === 0 || parts.length > 3 || parts.some((x) => x === "")) {
    throw new GantryError("InvalidArgument", `Invalid platform "${spec}": expected os/arch[/variant].`);
  }
  if (parts.length === 1) return normalizePlatform({ ...hostPlatform(), os: parts[0] });
  return normalizePlatform({ os: parts[0], architecture: parts[1], ...(parts[2] ? { variant: parts[2] } : {}) });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/**
 * The platform as containerd's Normalize + Format spell it, which is how upstream names a multi-platform
 * result's parts (`linux/arm64`, not `linux/arm64/v8`; the local exporter's `linux_arm64` directories).
 */
export function platformId(p: Platform): string {
  const n = normalizePlatform(p);
  return formatPlatform(n.architecture === "arm64" && n.variant === "v8" ? stripVariant(n) : n);
}

export function platformMatches(want: Platform, have: Platform): boolean {
  const a = normalizePlatform(want);
  const b = normalizePlatform(have);
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
}
