// Gantry's client library: one interface whether the engine runs in this process or behind gantryd.
import type { ProgressSink } from "../util/progress-event.js";
import type { UsageRecord } from "../util/usage-record.js";

export interface ExportEntry {
  type: string;
  attrs: Record<string, string>;
}

/** Where a secret's bytes come from on the client (buildctl's `--secret id=,src=|env=`). */
export type SecretSource = { file: string } | { env: string };

export interface SolveOptions {
  /** A marshalled pb.Definition (what `gantry build` reads on stdin). */
  definition?: Uint8Array;
  /** `dockerfile.v0` or `gateway.v0`, with its attributes (`--opt`). */
  frontend?: string;
  frontendAttrs?: Record<string, string>;
  exports?: ExportEntry[];
  /** `--local name=dir`: the client directories the build may read. */
  locals?: Record<string, string>;
  secrets?: Record<string, SecretSource>;
  noCache?: boolean;
  /** `--ssh`: the agent socket forwarded for each id (`sshAgentsOf` in ssh-agents.ts). */
  ssh?: Record<string, string>;
  /** `--export-cache` / `--import-cache` entries (type local, registry, inline + attrs). */
  cacheExports?: ExportEntry[];
  cacheImports?: ExportEntry[];
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export interface SolveResult {
  /** Upstream's ExporterResponse keys (`containerimage.digest`, …). */
  exporterResponse: Record<string, string>;
}

export type { UsageRecord };

export interface PruneOptions {
  all?: boolean;
  filters?: string[];
  keepDuration?: number;
  keepBytes?: number;
}

export interface WorkerInfo {
  id: string;
  labels: Record<string, string>;
  platforms: string[];
}

export interface Client {
  solve(opts: SolveOptions): Promise<SolveResult>;
  diskUsage(filters?: string[]): Promise<UsageRecord[]>;
  prune(opts: PruneOptions, onRecord?: (r: UsageRecord) => void): Promise<void>;
  listWorkers(): Promise<WorkerInfo[]>;
  info(): Promise<{ version: string; revision: string; package: string }>;
  close(): Promise<void>;
}
