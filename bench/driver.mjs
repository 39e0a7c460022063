#!/usr/bin/env node
// Gantry's benchmark driver: builds each scenario with every builder that works on this machine (Gantry,
// Docker's embedded BuildKit, buildah), in the same run, interleaved per repetition, and reports medians
// and Gantry/other ratios. Usually started through bench/run.sh, which brings up the registry and dockerd.
//   node bench/driver.mjs [--reps N] [--builders gantry,gantryd,docker,buildah] [--record] [scenario…]
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildahBuilder, dockerBuilder, gantryBuilder } from "./lib/builders.mjs";
import { copyWasCached, slowestSteps } from "./lib/progress-log.mjs";
import { exportLines, markdownSection, median, recordInReadme, textTable } from "./lib/report.mjs";
import { runTimed } from "./lib/run-cmd.mjs";
import { SCENARIOS } from "./lib/scenarios.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const repo = resolve(benchDir, "..");
const loadStart = loadavg().map((x) => Number(x.toFixed(2))); // other work on the machine skews figures

function parseArgs(argv) {
  const o = { reps: 3, budget: 90, record: false, builders: ["gantry", "gantryd", "docker", "buildah"], scenarios: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--reps") o.reps = Number(argv[++i]);
    else if (a === "--budget") o.budget = Number(argv[++i]);
    else if (a === "--record") o.record = true;
    else if (a === "--builders") o.builders = argv[++i].split(",");
    else if (a === "-h" || a === "--help") {
      process.stdout.write(`usage: bench/run.sh [--reps N] [--budget SECONDS] [--builders gantry,gantryd,docker,buildah] [--record] [${SCENARIOS.map((s) => s.name).join("|")}…]\n`);
      process.exit(0);
    } else if (a.startsWith("-")) throw new Error(`unknown flag ${a}`);
    else o.scenarios.push(a);
  }
  if (!Number.isInteger(o.reps) || o.reps < 1) throw new Error("--reps needs a positive integer");
  const known = new Set(SCENARIOS.map((s) => s.name));
  for (const s of o.scenarios) if (!known.has(s)) throw new Error(`unknown scenario ${s} (have: ${[...known].join(", ")})`);
  return o;
}

function machine() {
  return {
    nproc: availableParallelism(), cpu: cpus()[0]?.model.trim() ?? "unknown",
    memGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version,
    loadAtStart: loadStart, loadAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

async function detectBuilders(names, tmp) {
  const all = [gantryBuilder(repo, tmp), gantryBuilder(repo, tmp, { daemon: true }), dockerBuilder(tmp), buildahBuilder(tmp)].filter((b) => names.includes(b.name));
  const out = [];
  for (const b of all) {
    const d = await b.detect();
    Object.assign(b, d);
    process.stdout.write(d.ok ? `builder ${b.label}: ${d.version}\n` : `builder ${b.label}: SKIPPED: ${d.reason}\n`);
    out.push(b);
  }
  return out;
}

/** Times single-threaded gzip and pigz on a tar of the scenario's file, once per repetition. */
async function gzipBaseline(tmp, ctx, spec, reps) {
  const layer = join(tmp, "layer.tar");
  await runTimed(["tar", "-C", ctx, "-cf", layer, spec.file], { log: join(tmp, "logs", "layer-tar.log") });
  const gz = [];
  const pz = [];
  for (let i = 0; i < reps; i++) {
    const g = await runTimed(["bash", "-c", 'gzip -6 -c "$1" > /dev/null', "gz", layer], { log: join(tmp, "logs", "gzip.log") });
    gz.push(g.seconds);
    const p = await runTimed(["bash", "-c", 'pigz -6 -c "$1" > /dev/null', "pz", layer], { log: join(tmp, "logs", "pigz.log"), allowFail: true });
    if (p.code === 0) pz.push(p.seconds);
    process.stdout.write(`  baseline #${i + 1}: gzip -6 ${g.seconds.toFixed(2)} s, pigz -6 ${p.code === 0 ? p.seconds.toFixed(2) + " s" : "unavailable"}\n`);
  }
  return { gzipSingle: median(gz), pigz: median(pz), gzipRuns: gz, pigzRuns: pz };
}

/**
 * Runs `reps` repetitions of every phase with every builder (interleaved, so drift hits all alike), but
 * starts no new repetition once `budget` seconds have gone: slow builders get fewer, not endless, runs.
 */
async function runScenario(sc, builders, tmp, reps, budget) {
  const ctx = sc.prepare(tmp);
  const started = Date.now();
  const rows = sc.phases.map((p) => ({ scenario: sc.name, title: sc.title, phase: p.name, target: p.target, runs: {}, exportRuns: {}, errors: {}, retries: {} }));
  for (let rep = 1; rep <= reps; rep++) {
    if (rep > 1 && (Date.now() - started) / 1000 > budget) {
      process.stdout.write(`  ${sc.name}: stopping after ${rep - 1} repetition(s), over the ${budget} s budget\n`);
      break;
    }
    for (const [bi, b] of builders.entries()) {
      if (rows.some((r) => r.errors[b.name])) continue; // one failure per builder and scenario is enough
      for (const [pi, p] of sc.phases.entries()) {
        const row = rows[pi];
        try {
          if (p.before) p.before(ctx, rep * 10 + bi);
          const r = await buildWithRetry(b, sc, p, ctx, tmp, rep, row);
          // A rebuild phase only measures what it claims if the cache did (or did not) answer the COPY.
          const cached = p.copyCached === undefined ? undefined : copyWasCached(r.log);
          if (cached !== undefined && cached !== p.copyCached) {
            throw new Error(`${sc.name} ${p.name}: COPY . /ctx was ${cached ? "" : "not "}CACHED (see ${r.log})`);
          }
          (row.runs[b.name] ??= []).push(r.seconds);
          if (r.exportSeconds !== undefined) (row.exportRuns[b.name] ??= []).push(r.exportSeconds);
          if (b.name === "gantry") row.gantrySlowest = slowestSteps(r.log);
          process.stdout.write(`  ${sc.name} ${p.name} ${b.name} #${rep}: ${r.seconds.toFixed(2)} s\n`);
        } catch (err) {
          row.errors[b.name] = String(err.message);
          process.stdout.write(`  ${sc.name} ${p.name} ${b.name} #${rep}: FAILED\n${err.message}\n`);
          break;
        }
      }
    }
  }
  const extra = sc.gzipBaseline ? await gzipBaseline(tmp, ctx, sc.gzipBaseline, reps) : undefined;
  return { rows: rows.map(summarize), extra };
}

/**
 * One timed build of phase `p` (after a reset when the phase asks for one). A failure is retried once, from a
 * reset, and noted in `row.retries`: Docker 20.10's BuildKit now and then fails wide fan-outs with
 * "flightcontrol: exceeded retry timeout", a bug of that version, not of the scenario.
 */
async function buildWithRetry(b, sc, p, ctx, tmp, rep, row) {
  const req = (attempt) => ({
    scenario: sc.name, dockerfileDir: join(benchDir, "scenarios", sc.name), contextDir: ctx, exportGzip: sc.exportGzip,
    log: join(tmp, "logs", `${sc.name}-${b.name}-${p.name}-${rep}${attempt ? "-retry" : ""}.log`),
  });
  if (p.reset) await b.reset();
  try {
    return await b.build(req(0));
  } catch (err) {
    const first = String(err.message).split("\n").filter((l) => /error|failed/i.test(l)).pop() ?? "failed";
    (row.retries[b.name] ??= []).push(`#${rep}: ${first.trim()}`);
    process.stdout.write(`  ${sc.name} ${p.name} ${b.name} #${rep}: failed (${first.trim()}), retrying once\n`);
    if (p.reset) await b.reset();
    return await b.build(req(1));
  }
}

function summarize(row) {
  const m = Object.fromEntries(Object.entries(row.runs).map(([k, v]) => [k, median(v)]));
  const g = m.gantry;
  const ratioTo = (k) => (g !== undefined && m[k] ? g / m[k] : undefined);
  const r = { docker: ratioTo("docker"), buildah: ratioTo("buildah"), daemonDocker: m.gantryd !== undefined && m.docker ? m.gantryd / m.docker : undefined };
  const met = row.target !== undefined && r.docker !== undefined ? r.docker <= row.target : undefined;
  const daemonMet = row.target !== undefined && r.daemonDocker !== undefined ? r.daemonDocker <= row.target : undefined;
  const exportMedian = Object.fromEntries(Object.entries(row.exportRuns).map(([k, v]) => [k, median(v)]));
  return { ...row, median: m, ratio: r, met, daemonMet, exportMedian };
}

function exportSummary(row, extra, spec) {
  const gantryExport = row.exportMedian.gantry;
  const speedup = gantryExport && extra.gzipSingle ? extra.gzipSingle / gantryExport : undefined;
  return {
    ...extra, gantryExport, dockerExportLayers: row.exportMedian.docker, buildahPush: row.exportMedian.buildah,
    speedup, minSpeedup: spec.minSpeedup, met: speedup === undefined ? undefined : speedup >= spec.minSpeedup,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = process.env.GANTRY_BENCH_TMP ?? join(tmpdir(), "gantry-bench");
  mkdirSync(join(tmp, "logs"), { recursive: true });
  const date = new Date().toISOString();
  const all = await detectBuilders(opts.builders, tmp);
  try {
    await runAll(opts, tmp, date, all);
  } finally {
    // A builder that started a daemon (gantryd) stops it; the daemon would otherwise outlive the run.
    await Promise.all(all.map((b) => b.stop?.()));
  }
}

async function runAll(opts, tmp, date, all) {
  const builders = all.filter((b) => b.ok);
  if (opts.builders.includes("gantry") && !builders.some((b) => b.name === "gantry")) {
    process.stdout.write("warning: Gantry itself is not available; ratios will be empty\n");
  }
  const chosen = SCENARIOS.filter((s) => opts.scenarios.length === 0 || opts.scenarios.includes(s.name));
  const rows = [];
  let exp;
  for (const sc of chosen) {
    process.stdout.write(`scenario ${sc.name}: ${sc.title}\n`);
    const { rows: r, extra } = await runScenario(sc, builders, tmp, opts.reps, opts.budget);
    rows.push(...r);
    if (extra) exp = exportSummary(r[0], extra, sc.gzipBaseline);
  }
  process.stdout.write(`\n${textTable(rows, builders)}\n`);
  for (const l of exportLines(exp)) process.stdout.write(`${l}\n`);
  const result = {
    date, reps: opts.reps, budget: opts.budget, machine: machine(), rows, export: exp,
    builders: all.map((b) => ({ name: b.name, label: b.label, ok: b.ok, version: b.version, reason: b.reason, notes: b.notes })),
  };
  mkdirSync(join(benchDir, "results"), { recursive: true });
  writeFileSync(join(benchDir, "results", "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nwrote bench/results/latest.json; build logs in ${join(tmp, "logs")}\n`);
  if (opts.record) {
    recordInReadme(join(benchDir, "README.md"), markdownSection(result));
    process.stdout.write("updated bench/README.md\n");
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
