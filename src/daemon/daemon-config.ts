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
  };
}
