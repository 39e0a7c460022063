// gantryd's configuration: flags over `/etc/gantry/gantryd.toml`, with buildkitd.toml's keys where they apply.
import { readFile } from "node:fs/promises";
import { parse } from "smol-toml";
import { GantryError, errnoOf, messageOf } from "../util/errors.js";

export interface TlsConfig {
  cert: string;
  key: string;
  ca?: string;
}

export interface DaemonConfig {
  root?: string;
  debug: boolean;
  addresses: string[];
  tls?: TlsConfig;
  /** `--debugaddr` / `[grpc] debugAddress`: health, /metrics and /debug/vars over plain HTTP. */
  debugAddress?: string;
  /** How long a stopping daemon lets running builds finish before canceling them (`--shutdown-grace`). */
  shutdownGraceSeconds?: number;
  insecureRegistries: string[];
  maxParallelism?: number;
  /** `[history] maxAge` (ms here) and `maxEntries`; a key left out keeps upstream's default. */
  history?: { maxAgeMs?: number; maxEntries?: number };
}

export const DEFAULT_ADDRESS = "unix:///run/gantry/gantryd.sock";
export const DEFAULT_CONFIG = "/etc/gantry/gantryd.toml";

type Table = Record<string, unknown>;
const table = (v: unknown): Table => (v && typeof v === "object" && !Array.isArray(v) ? (v as Table) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Reads the TOML file (missing is fine unless it was named explicitly). Errors name the file. */
export async function loadConfigFile(path: string, explicit: boolean): Promise<DaemonConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (!explicit && errnoOf(err) === "ENOENT") return { debug: false, addresses: [], insecureRegistries: [] };
    throw new GantryError("InvalidArgument", `Cannot read config file ${path}: ${messageOf(err)}.`, { cause: err });
  }
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    throw new GantryError("InvalidArgument", `Config file ${path} is not valid TOML: ${messageOf(err)}`, { cause: err });
  }
  const grpc = table(doc.grpc);
  const tls = table(grpc.tls);
  const oci = table(table(doc.worker).oci);
  const registries = table(doc.registry);
  const insecure = Object.entries(registries).filter(([, v]) => table(v).http === true || table(v).insecure === true).map(([k]) => k);
  const addresses = Array.isArray(grpc.address) ? grpc.address.filter((a): a is string => typeof a === "string") : [];
  const cert = str(tls.cert);
  const key = str(tls.key);
  return {
    root: str(doc.root),
    debug: doc.debug === true,
    addresses,
    ...(cert && key ? { tls: { cert, key, ...(str(tls.ca) ? { ca: str(tls.ca) } : {}) } } : {}),
    debugAddress: str(grpc.debugAddress),
    insecureRegistries: insecure,
    ...(typeof oci["max-parallelism"] === "number" ? { maxParallelism: oci["max-parallelism"] } : {}),
    ...(doc.history !== undefined ? { history: historyConfig(table(doc.history), path) } : {}),
  };
}

/** `[history]`: maxAge in seconds or a Go duration ("48h", "1h30m"), maxEntries a count. */
function historyConfig(t: Table, path: string): { maxAgeMs?: number; maxEntries?: number } {
  const out: { maxAgeMs?: number; maxEntries?: number } = {};
  if (t.maxAge !== undefined) {
    const ms = typeof t.maxAge === "number" ? t.maxAge * 1000 : typeof t.maxAge === "string" ? durationMs(t.maxAge) : undefined;
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      throw new GantryError("InvalidArgument", `Config file ${path}: [history] maxAge must be seconds or a duration like "48h", not ${JSON.stringify(t.maxAge)}.`);
    }
    out.maxAgeMs = ms;
  }
  if (t.maxEntries !== undefined) {
    if (typeof t.maxEntries !== "number" || !Number.isInteger(t.maxEntries) || t.maxEntries < 0) {
      throw new GantryError("InvalidArgument", `Config file ${path}: [history] maxEntries must be a whole number, not ${JSON.stringify(t.maxEntries)}.`);
    }
    out.maxEntries = t.maxEntries;
  }
  return out;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's duration syntax ("1h30m", "90s", "1.5h") or plain seconds ("3600"); undefined if neither. */
export function durationMs(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]], 0);
}
