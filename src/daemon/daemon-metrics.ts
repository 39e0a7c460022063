// gantryd's counters and gauges, rendered in the Prometheus text format (version 0.0.4) for the debug
// address's /metrics. Upstream exports its build counters through OpenTelemetry's Prometheus bridge; the
// names here follow Prometheus conventions with a `gantry_` prefix.

/** How a build ended. */
export type BuildOutcome = "success" | "failure" | "canceled";

/** What the cache holds, sampled when /metrics is read. */
export interface CacheSample {
  records: number;
  bytes: number;
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "summary";
  /** `suffix` names a summary's `_sum` and `_count` series. */
  samples: Array<{ suffix?: string; labels?: Record<string, string>; value: number }>;
}

/** The daemon's live numbers. One instance per daemon; methods are cheap and synchronous. */
export class DaemonMetrics {
  readonly #startedAt = Date.now();
  #started = 0;
  #running = 0;
  readonly #finished = new Map<BuildOutcome, number>([["success", 0], ["failure", 0], ["canceled", 0]]);
  #durationSum = 0;
  #sessions = 0;

  /** A Solve call began. Call `buildFinished` exactly once for it. */
  buildStarted(): void {
    this.#started++;
    this.#running++;
  }

  /** A Solve call ended after `seconds`. */
  buildFinished(outcome: BuildOutcome, seconds: number): void {
    this.#running--;
    this.#finished.set(outcome, (this.#finished.get(outcome) ?? 0) + 1);
    this.#durationSum += seconds;
  }

  /** Adjusts the number of attached client sessions by `delta` (+1 on attach, -1 on end). */
  sessionsChanged(delta: number): void {
    this.#sessions += delta;
  }

  /** Builds running now. */
  get running(): number {
    return this.#running;
  }

  /** The Prometheus text exposition of every metric; `cache` is left out when unknown. */
  render(cache?: CacheSample): string {
    const finishedTotal = [...this.#finished.values()].reduce((a, b) => a + b, 0);
    const mem = process.memoryUsage();
    const families: Family[] = [
      { name: "gantry_builds_started_total", help: "Builds (Control.Solve calls) started.", type: "counter", samples: [{ value: this.#started }] },
      {
        name: "gantry_builds_finished_total", help: "Builds finished, by outcome.", type: "counter",
        samples: [...this.#finished].map(([status, value]) => ({ labels: { status }, value })),
      },
      { name: "gantry_builds_running", help: "Builds running now.", type: "gauge", samples: [{ value: this.#running }] },
      {
        name: "gantry_build_duration_seconds", help: "Wall-clock time of finished builds.", type: "summary",
        samples: [{ suffix: "_sum", value: this.#durationSum }, { suffix: "_count", value: finishedTotal }],
      },
      { name: "gantry_sessions_active", help: "Client sessions attached now.", type: "gauge", samples: [{ value: this.#sessions }] },
      ...(cache ? [
        { name: "gantry_cache_records", help: "Records in the build cache.", type: "gauge" as const, samples: [{ value: cache.records }] },
        { name: "gantry_cache_bytes", help: "Disk space the build cache's records use.", type: "gauge" as const, samples: [{ value: cache.bytes }] },
      ] : []),
      { name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", type: "gauge", samples: [{ value: mem.rss }] },
      { name: "nodejs_heap_used_bytes", help: "V8 heap in use, in bytes.", type: "gauge", samples: [{ value: mem.heapUsed }] },
      { name: "process_start_time_seconds", help: "Start time of the process since the Unix epoch, in seconds.", type: "gauge", samples: [{ value: Math.floor(this.#startedAt / 1000) }] },
    ];
    return families.map(renderFamily).join("");
  }
}

function renderFamily(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`];
  for (const s of f.samples) lines.push(`${f.name}${s.suffix ?? ""}${labelsOf(s.labels)} ${formatValue(s.value)}`);
  return `${lines.join("\n")}\n`;
}

function labelsOf(labels: Record<string, string> | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")}"`);
  return `{${parts.join(",")}}`;
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(6);
}
