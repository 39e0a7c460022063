// `gantry build`: buildctl's build command. Reads LLB on stdin when no --frontend is given.
import { resolve } from "node:path";
import { GantryError } from "../util/errors.js";
import type { Client, SecretSource, SolveOptions } from "../client/client.js";
import { flagBool, flagList, flagValue, parseArgs, type FlagSpec } from "./args.js";
import { parseCsvAttrs } from "./csv-attrs.js";
import { parseOutput } from "./output-spec.js";
import { readStdin } from "./read-stdin.js";
import { createPrinter, PROGRESS_MODES, type ProgressMode } from "./progress/create-printer.js";
import { errorSummary } from "./progress/error-summary.js";
import { writeMetadataFile } from "./metadata-file.js";
import { openTraceFile } from "./trace-file.js";
import { sshAgentsOf } from "../client/ssh-agents.js";

export const BUILD_FLAGS: FlagSpec[] = [
  { names: ["--frontend"], kind: "string" },
  { names: ["--opt"], kind: "list" },
  { names: ["--local"], kind: "list" },
  { names: ["--output", "-o"], kind: "list" },
  { names: ["--progress"], kind: "string" },
  { names: ["--no-cache"], kind: "bool" },
  // buildx's flag (buildctl has only --opt no-cache=…): stages whose steps must not come from the cache.
  { names: ["--no-cache-filter"], kind: "list" },
  { names: ["--secret"], kind: "list" },
  { names: ["--ssh"], kind: "list" },
  { names: ["--export-cache"], kind: "list" },
  { names: ["--import-cache"], kind: "list" },
  { names: ["--metadata-file"], kind: "string" },
  { names: ["--trace"], kind: "string" },
  { names: ["--allow"], kind: "list" },
  // buildx's `--call NAME[,format=json][,ignorestatus=true]` and `--check` (= --call check): ask the
  // frontend a subrequest (`requestid=frontend.NAME`, check → lint) instead of building.
  { names: ["--call"], kind: "string" },
  { names: ["--check"], kind: "bool" },
];

/** What `--call`/`--check` asked: the subrequest, how to print its answer, whether its status decides the exit. */
interface CallSpec {
  requestId?: string;
  json: boolean;
  ignoreStatus: boolean;
}

function parseCall(value: string | undefined, check: boolean): CallSpec {
  const spec: CallSpec = { json: false, ignoreStatus: false };
  if (value === undefined && !check) return spec;
  let name = check ? "check" : "";
  for (const field of (value ?? "").split(",").map((f) => f.trim()).filter((f) => f !== "")) {
    const eq = field.indexOf("=");
    const [k, v] = eq < 0 ? ["", field] : [field.slice(0, eq), field.slice(eq + 1)];
    if (k === "") name = v;
    else if (k === "format" && (v === "json" || v === "text")) spec.json = v === "json";
    else if (k === "ignorestatus" && (v === "true" || v === "false")) spec.ignoreStatus = v === "true";
    else throw new GantryError("InvalidArgument", `Invalid --call "${value}": ${field} is not format=json|text or ignorestatus=true|false.`);
  }
  if (name === "") throw new GantryError("InvalidArgument", `Invalid --call "${value}": name a subrequest (check, outline, targets).`);
  if (name !== "build") spec.requestId = `frontend.${name === "check" ? "lint" : name}`;
  return spec;
}

/**
 * Prints a subrequest's answer (`result.txt`, or `result.json` with format=json) to stdout and returns the
 * exit status it asks for (`result.statuscode`, lint only). Lint's build error goes to stderr.
 */
function printSubrequest(response: Record<string, string>, call: CallSpec): number {
  process.stdout.write(call.json ? `${response["result.json"] ?? ""}\n` : response["result.txt"] ?? "");
  const json = response["result.json"];
  if (!call.json && json !== undefined && response["result.statuscode"] !== undefined) {
    const parsed: unknown = JSON.parse(json);
    const be = typeof parsed === "object" && parsed !== null ? (parsed as { buildError?: { message?: unknown } }).buildError : undefined;
    if (typeof be?.message === "string") process.stderr.write(`ERROR: ${be.message}\n`);
  }
  const status = Number.parseInt(response["result.statuscode"] ?? "0", 10);
  return call.ignoreStatus || Number.isNaN(status) ? 0 : status;
}

function keyValues(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new GantryError("InvalidArgument", `Invalid ${flag} "${v}": expected key=value.`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function parseSecrets(values: string[]): Record<string, SecretSource> {
  const out: Record<string, SecretSource> = {};
  for (const v of values) {
    const a = parseCsvAttrs(v, "--secret");
    const id = a.id;
    const src = a.src ?? a.source;
    if (!id) throw new GantryError("InvalidArgument", `Invalid --secret "${v}": id= is required.`);
    if (src) out[id] = { file: resolve(src) };
    else if (a.env) out[id] = { env: a.env };
    else out[id] = { env: id };
  }
  return out;
}

/**
 * One `--export-cache`/`--import-cache` value: CSV attrs with a type (a bare value is a registry ref, as
 * buildctl reads it). Local directories are made absolute here: a daemon resolves paths from its own cwd.
 */
function parseCacheFlag(value: string, flag: string): { type: string; attrs: Record<string, string> } {
  if (!value.includes("=")) return { type: "registry", attrs: { ref: value } };
  const { type, ...attrs } = parseCsvAttrs(value, flag);
  if (!type) throw new GantryError("InvalidArgument", `Invalid ${flag} "${value}": type= is required (local, registry or inline).`);
  for (const k of ["dest", "src"]) if (type === "local" && attrs[k]) attrs[k] = resolve(attrs[k]);
  return { type, attrs };
}

/** `--no-cache-filter a,b` (repeatable) is the Dockerfile frontend's `no-cache=a,b` attr. */
function withNoCacheFilter(attrs: Record<string, string>, filters: string[]): Record<string, string> {
  const stages = filters.flatMap((f) => f.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  if (filters.length === 0) return attrs;
  if (stages.length === 0) throw new GantryError("InvalidArgument", "Invalid --no-cache-filter: name at least one stage.");
  const given = attrs["no-cache"];
  if (given === "") return attrs; // --opt no-cache= already ignores the cache everywhere
  return { ...attrs, "no-cache": [...(given ? given.split(",") : []), ...stages].join(",") };
}

export async function buildCommand(argv: string[], client: () => Promise<Client>): Promise<number> {
  const args = parseArgs(argv, BUILD_FLAGS, "build");
  const progress = (flagValue(args, "--progress") ?? process.env.BUILDKIT_PROGRESS ?? "auto") as ProgressMode;
  if (!PROGRESS_MODES.includes(progress)) {
    throw new GantryError("InvalidArgument", `Invalid --progress "${progress}": use auto, tty, plain, rawjson or quiet.`);
  }
  const frontend = flagValue(args, "--frontend");
  const exports = flagList(args, "--output").map((o) => parseOutput(o, process.stdout.isTTY === true));
  const locals = Object.fromEntries(Object.entries(keyValues(flagList(args, "--local"), "--local")).map(([k, v]) => [k, resolve(v)]));
  const call = parseCall(flagValue(args, "--call"), flagBool(args, "--check"));
  const frontendAttrs = withNoCacheFilter(keyValues(flagList(args, "--opt"), "--opt"), flagList(args, "--no-cache-filter"));
  if (call.requestId !== undefined) frontendAttrs.requestid = call.requestId;
  const opts: SolveOptions = {
    frontend,
    frontendAttrs,
    exports,
    locals,
    secrets: parseSecrets(flagList(args, "--secret")),
    noCache: flagBool(args, "--no-cache"),
    // Checked here, before anything runs: a missing agent socket is the user's to fix.
    ssh: await sshAgentsOf(flagList(args, "--ssh")),
    cacheExports: flagList(args, "--export-cache").map((v) => parseCacheFlag(v, "--export-cache")),
    cacheImports: flagList(args, "--import-cache").map((v) => parseCacheFlag(v, "--import-cache")),
  };
  if (!frontend) opts.definition = await readStdin("The LLB definition");
  const printer = createPrinter(progress, process.stderr);
  const trace = await openTraceFile(flagValue(args, "--trace"));
  const c = await client();
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new GantryError("Canceled", "The build was interrupted."));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const res = await c.solve({ ...opts, signal: abort.signal, onProgress: (e) => {
      printer?.write(e);
      trace?.write(e);
    } });
    printer?.finish();
    const mdFile = flagValue(args, "--metadata-file");
    if (mdFile) await writeMetadataFile(mdFile, res.exporterResponse);
    // A subrequest (--call, or --opt requestid=…) answers instead of building: print it as buildctl does.
    if ((frontendAttrs.requestid ?? "") !== "") return printSubrequest(res.exporterResponse, call);
    return 0;
  } catch (err) {
    printer?.finish();
    if (printer) process.stderr.write(errorSummary(printer.table));
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await trace?.close();
    await c.close();
  }
}
