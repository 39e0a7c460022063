#!/usr/bin/env node
// Bundles the compiled CLI and daemon (dist/src/…) into dist/bin with esbuild, and writes V8 code caches
// for them. Node 20 has no module compile cache, so each `gantry build` used to spend ~40 ms compiling the
// engine's ES module chunks, plus lazy compiles of every function it first calls. Now:
//   bin/cli/main.js        small ES module (src/cli/main.ts): `--version`/`--help` load nothing else;
//                          its `import("./commands.js")` goes to commands-loader.js, a stub that loads…
//   bin/cli/commands.cjs   …everything the commands reach, one CommonJS file loaded through vm.Script with
//                          a code cache (src/cli/code-cache.ts); its dynamic imports stay lazy inside it.
//   bin/daemon/main.js     a stub that loads bin/daemon/daemon.cjs (all of gantryd) the same way.
//   bin/*/layer-tar-worker.js  the layer tar worker (its own ES module bundle) beside each bundle that
//                          starts it: src/oci/layer-tar-pool.ts finds it beside itself.
// The caches are made here, not at run time (installs may be read-only, and two first runs would race):
// the CLI's after a warm-up (two builds of a small Dockerfile into a temporary root, needing neither runc
// nor a registry, then one through a gantryd started for it, so the functions a build runs are compiled
// into it), the daemon's from compiling only.
// A cache is keyed by the bundle's hash and node's V8 version and holds the bundle's path (V8 keeps the
// file name it was made with): any mismatch, e.g. a moved dist/, just loads uncached.
// Everything is built into a fresh directory that then replaces dist/bin, so stale chunks never pile up.
//   node scripts/bundle.mjs [--dist DIR] [--no-warm-up]   (default: dist)
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const at = process.argv.indexOf("--dist");
const dist = resolve(at > 0 ? process.argv[at + 1] : "dist");
const warmUp = !process.argv.includes("--no-warm-up");
const out = join(dist, "bin");
const staging = `${out}.new-${process.pid}`;
const loader = join(dist, "src/cli/code-cache.js");
const cacheApi = await import(pathToFileURL(loader).href);

const common = { bundle: true, platform: "node", target: "node20", sourcemap: "linked", logLevel: "warning", metafile: true };

await removeLeftovers();
const cli = await bundleCommonJs(join(dist, "src/cli/commands.js"), join(staging, "cli/commands.cjs"));
const daemon = await bundleCommonJs(join(dist, "src/daemon/main.js"), join(staging, "daemon/daemon.cjs"));
await build({
  ...common,
  entryPoints: [join(dist, "src/cli/main.js")],
  format: "esm",
  outfile: join(staging, "cli/main.js"),
  plugins: [redirectCommands()],
});
await buildStub(join(staging, "cli/commands-loader.js"), "commands.cjs", cli.hash, "export const commandModules = loaded.commandModules;");
await buildStub(join(staging, "daemon/main.js"), "daemon.cjs", daemon.hash, "", "#!/usr/bin/env node");
for (const bin of ["cli/main.js", "daemon/main.js"]) await chmod(join(staging, bin), 0o755);
for (const b of [cli, daemon]) if (b.startsWorker) await bundleWorker(join(b.file, "..", "layer-tar-worker.js"));
await replaceOutput();
// V8 keeps the path a cache was made under, so the caches are made where the bundles now are. Until they
// are written, a run loads uncached.
for (const b of [cli, daemon]) b.file = join(out, b.file.slice(staging.length + 1));
if (!warmUp || !(await warmUpCli(cli).catch((err) => warn(`the warm-up could not run: ${err.message}`)))) await compileOnlyCache(cli);
await compileOnlyCache(daemon);

/**
 * One entry and all it reaches as a CommonJS file that src/cli/code-cache.ts can load. import.meta exists
 * only in ES modules: the banner gives the one user (layer-tar-pool's worker path) a file URL.
 */
async function bundleCommonJs(entry, file) {
  const res = await build({
    ...common,
    entryPoints: [entry],
    format: "cjs",
    outfile: file,
    // The native addon stays a package, loaded by the require that code-cache.ts hands the bundle.
    external: ["better-sqlite3"],
    define: { "import.meta.url": "__gantryModuleUrl", "import.meta.resolve": "__gantryResolve" },
    // ES modules are strict; "use strict" must open the file for the bundle to stay so.
    banner: {
      js: "\"use strict\";\nconst __gantryModuleUrl = require(\"node:url\").pathToFileURL(__filename).href;\n" +
        "const __gantryResolve = (s) => require(\"node:url\").pathToFileURL(require.resolve(s)).href;",
    },
  });
  const output = Object.values(res.metafile.outputs).find((o) => o.entryPoint !== undefined);
  // vm.Script has no loader for a dynamic import that esbuild left in place (an external ES module).
  const left = output.imports.filter((i) => i.kind === "dynamic-import");
  if (left.length > 0) throw new Error(`bundle.mjs: ${file} keeps dynamic imports of ${left.map((i) => i.path).join(", ")}; vm.Script cannot load them.`);
  const source = await readFile(file);
  return {
    file,
    hash: createHash("sha256").update(source).digest("hex"),
    startsWorker: Object.keys(output.inputs).some((i) => i.endsWith("src/oci/layer-tar-pool.js")),
  };
}

/**
 * An ES module that loads a CommonJS bundle beside it through the code cache (the loader is bundled in).
 * The CLI's is a file of its own, imported only by commands: the loader's node:crypto and node:vm would
 * cost `--version` a few milliseconds.
 */
async function buildStub(outfile, bundleName, hash, exportLine, banner = "") {
  const contents = `import { requireBundle } from ${JSON.stringify(loader)};\n` +
    `const loaded = requireBundle(new URL(${JSON.stringify(`./${bundleName}`)}, import.meta.url), ${JSON.stringify(hash)});\n` +
    `${exportLine}\n`;
  await build({ ...common, stdin: { contents, resolveDir: dist, sourcefile: `${bundleName}-stub.js` }, format: "esm", outfile, banner: { js: banner } });
}

/** An esbuild plugin that points main.js's `import("./commands.js")` at the stub file beside it. */
function redirectCommands() {
  return {
    name: "gantry-commands-stub",
    setup(b) {
      b.onResolve({ filter: /^\.\/commands\.js$/ }, (args) =>
        (args.importer.endsWith(join("src", "cli", "main.js")) ? { path: "./commands-loader.js", external: true } : undefined));
    },
  };
}

async function bundleWorker(outfile) {
  await build({ ...common, entryPoints: [join(dist, "src/oci/layer-tar-worker.js")], format: "esm", outfile, metafile: false });
}

/**
 * Runs two builds of a small Dockerfile (scratch, COPY, WORKDIR, ENV, LABEL, a second stage) with
 * GANTRY_CODE_CACHE=write: the first compiles the cold path, the second loads that cache and adds the
 * fully cached path. Returns false (after saying why) if it could not make an accepted cache.
 */
async function warmUpCli(b) {
  const tmp = await mkdtemp(join(tmpdir(), "gantry-warm-up-"));
  try {
    await mkdir(join(tmp, "ctx"));
    await writeFile(join(tmp, "ctx", "hello"), "hello\n");
    await writeFile(join(tmp, "Dockerfile"), "FROM scratch AS base\nARG VERSION=1\nCOPY hello /hello\n\n" +
      "FROM base\nENV A=b\nWORKDIR /w\nCOPY --from=base /hello /w/copy\nLABEL v=$VERSION\n");
    const args = [join(out, "cli/main.js"), "--root", join(tmp, "root"), "build", "--frontend", "dockerfile.v0",
      "--local", `context=${join(tmp, "ctx")}`, "--local", `dockerfile=${tmp}`,
      "--output", `type=oci,dest=${join(tmp, "out.tar")}`, "--progress", "plain"];
    const env = { ...process.env, GANTRY_CODE_CACHE: "write" };
    delete env.BUILDKIT_HOST;
    for (let run = 0; run < 2; run++) {
      const r = spawnSync(process.execPath, args, { env, encoding: "utf8", timeout: 120_000 });
      if (r.status !== 0) return warn(`the warm-up build failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    }
    // A third run through a gantryd adds the remote path (gRPC client, session server); without it the
    // cache still serves the embedded path, so a failure here only warns.
    const remote = await warmUpRemote(tmp, args, env).catch((err) => err.message);
    if (remote !== true) process.stderr.write(`bundle.mjs: the gantryd warm-up did not run (${remote}); the code cache covers embedded builds only.\n`);
    const data = cacheApi.readCodeCache(cacheApi.codeCacheFile(b.file, b.hash), b.file);
    if (data === undefined) return warn("the warm-up build wrote no code cache");
    if (cacheApi.compileCommonJs(b.file, data).cachedDataRejected) return warn("V8 rejected the warm-up's code cache");
    return true;
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch((err) => process.stderr.write(`bundle.mjs: could not remove ${tmp}: ${err.message}\n`));
  }
}

/**
 * Starts the new gantryd on a socket in `tmp` (its own root; the build needs neither runc nor a registry) and
 * runs the warm-up build through it once more. Returns true, or why not.
 */
async function warmUpRemote(tmp, args, env) {
  const sock = join(tmp, "gantryd.sock");
  const daemon = spawn(process.execPath, [join(out, "daemon/main.js"), "--root", join(tmp, "droot"), "--addr", `unix://${sock}`],
    { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  daemon.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((r) => daemon.once("exit", r));
  try {
    for (let i = 0; i < 200 && !existsSync(sock) && daemon.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(sock)) return `gantryd did not start: ${stderr.trim().split("\n").slice(-2).join(" | ")}`;
    const remoteArgs = [args[0], "--addr", `unix://${sock}`, ...args.slice(3)];
    const r = spawnSync(process.execPath, remoteArgs, { env, encoding: "utf8", timeout: 120_000 });
    return r.status === 0 || `the build failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim().split("\n").slice(-2).join(" | ")}`;
  } finally {
    daemon.kill("SIGTERM");
    const stuck = setTimeout(() => daemon.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(stuck);
  }
}

/** A cache of what V8 compiles eagerly: less than a warm-up's, still most of the top-level parse. */
async function compileOnlyCache(b) {
  cacheApi.writeCodeCache(cacheApi.codeCacheFile(b.file, b.hash), b.file, cacheApi.compileCommonJs(b.file).createCachedData());
}

function warn(why) {
  process.stderr.write(`bundle.mjs: ${why}; writing a compile-only code cache instead.\n`);
  return false;
}

/** Removes staging and old trees that a bundle.mjs which no longer runs (it failed, was killed) left. */
async function removeLeftovers() {
  for (const name of await readdir(dist).catch(() => [])) {
    const m = /^bin\.(new|old)-(\d+)$/.exec(name);
    if (m !== null && (Number(m[2]) === process.pid || !isRunning(Number(m[2])))) await rm(join(dist, name), { recursive: true, force: true });
  }
}

function isRunning(pid) {
  try {
    process.kill(pid, 0); // signal 0 only asks whether the process exists
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

/**
 * Swaps the staging directory in for dist/bin; the old tree (with any stale files) goes. Another
 * bundle.mjs may swap in its own tree between the two renames: then move that aside too and retry.
 */
async function replaceOutput() {
  const old = `${out}.old-${process.pid}`;
  for (let attempt = 0; ; attempt++) {
    await rm(old, { recursive: true, force: true });
    await rename(out, old).catch((err) => {
      if (err.code !== "ENOENT") throw err;
    });
    try {
      await rename(staging, out);
      break;
    } catch (err) {
      if (attempt >= 2 || (err.code !== "ENOTEMPTY" && err.code !== "EEXIST")) throw err;
    }
  }
  await rm(old, { recursive: true, force: true });
}
