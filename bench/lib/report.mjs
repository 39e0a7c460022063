// Turns the suite's measurements into the console table, the JSON record and the README section.
import { readFileSync, writeFileSync } from "node:fs";

/** Median of a non-empty list of numbers (mean of the middle two for even lengths). */
export function median(xs) {
  if (!xs || xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const secs = (x) => (x === undefined ? "—" : `${x.toFixed(2)} s`);
const ratio = (x) => (x === undefined ? "—" : x.toFixed(2));

function verdict(row) {
  if (row.target === undefined) return "";
  if (row.met === undefined && row.daemonMet === undefined) return `≤ ${row.target.toFixed(1)} (no Docker figure)`;
  const say = (met) => (met === undefined ? "—" : met ? "met" : "NOT met");
  const daemon = row.daemonMet === undefined ? "" : `; gantryd ${say(row.daemonMet)}`;
  return `≤ ${row.target.toFixed(1)}: ${say(row.met)}${daemon}`;
}

function cells(row, builders) {
  return [
    row.scenario, row.phase, Math.max(0, ...Object.values(row.runs).map((r) => r.length)),
    ...builders.map((b) => (row.errors?.[b.name] ? "failed" : secs(row.median[b.name]))),
    ratio(row.ratio.docker), ...(hasDaemon(builders) ? [ratio(row.ratio.daemonDocker)] : []), ratio(row.ratio.buildah), verdict(row),
  ];
}

function hasDaemon(builders) {
  return builders.some((b) => b.name === "gantryd");
}

function header(builders) {
  return ["scenario", "phase", "runs", ...builders.map((b) => b.label), "Gantry/Docker",
    ...(hasDaemon(builders) ? ["gantryd/Docker"] : []), "Gantry/buildah", "target (Gantry/Docker)"];
}

/** A plain-text table of medians and ratios for the console. */
export function textTable(rows, builders) {
  const lines = [header(builders), ...rows.map((r) => cells(r, builders))];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)));
  return lines.map((l) => l.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** The same table in Markdown. */
export function markdownTable(rows, builders) {
  const h = header(builders);
  const out = [`| ${h.join(" | ")} |`, `|${h.map(() => "---").join("|")}|`];
  for (const r of rows) out.push(`| ${cells(r, builders).join(" | ")} |`);
  return out.join("\n");
}

/** Lines about the gzip export (issue 6) for console and README alike. */
export function exportLines(x) {
  if (!x) return [];
  const out = [
    `gzip export of the 256 MiB layer (issue 6): Gantry's "exporting layers" ${secs(x.gantryExport)}, ` +
      `single-threaded \`gzip -6\` of the same layer tar ${secs(x.gzipSingle)}, \`pigz -6\` ${secs(x.pigz)} ` +
      `→ speed-up over gzip ${ratio(x.speedup)}× (target ≥ ${x.minSpeedup}×: ${x.met === undefined ? "not measured" : x.met ? "met" : "NOT met"}).`,
  ];
  if (x.buildahPush !== undefined) out.push(`buildah push to a gzip oci-archive took ${secs(x.buildahPush)} of its total.`);
  return out;
}

/** Markdown for the README's recorded section. */
export function markdownSection(result) {
  const m = result.machine;
  const builders = result.builders.filter((b) => b.ok);
  const lines = [
    `Recorded ${result.date} with \`bash bench/run.sh --record\`: up to ${result.reps} repetitions per scenario ` +
      `(fewer once a scenario passes its ${result.budget} s budget; \`runs\` says how many), median wall clock per builder.`,
    "",
    `Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memGiB} GiB memory, Linux ${m.kernel}, Node ${m.node}; ` +
      `load average (1/5/15 min) ${m.loadAtStart?.join("/")} at the start, ${m.loadAtEnd?.join("/")} at the end.`,
    "",
    "Builders:",
    ...result.builders.map((b) => `- ${b.label}: ${b.ok ? b.version : `skipped: ${b.reason}`}${b.notes?.length ? ` — ${b.notes.join("; ")}` : ""}`),
    "",
    markdownTable(result.rows, builders),
    "",
    ...exportLines(result.export).map((l) => `${l}`),
    "",
    ...result.rows.flatMap((r) => Object.entries(r.retries ?? {}).map(([b, why]) => `Retried ${b} in ${r.scenario} ${r.phase}: ${why.join("; ")}.`)),
    ...result.rows.flatMap((r) => Object.entries(r.errors ?? {}).map(([b, why]) => `${b} failed ${r.scenario} ${r.phase}: ${why.split("\n")[0]}`)),
    "",
    "Where Gantry's time went (slowest steps of its last run, from `--progress plain`):",
    ...result.rows.filter((r) => r.gantrySlowest).map((r) => `- ${r.scenario} ${r.phase}: ${r.gantrySlowest}`),
  ];
  return lines.join("\n");
}

const START = "<!-- bench:latest:start -->";
const END = "<!-- bench:latest:end -->";

/** Replaces the recorded section of the README at `path` (between the markers) with `section`. */
export function recordInReadme(path, section) {
  const text = readFileSync(path, "utf8");
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${path} has no ${START} … ${END} section to update.`);
  writeFileSync(path, `${text.slice(0, a + START.length)}\n${section}\n${text.slice(b)}`);
}
