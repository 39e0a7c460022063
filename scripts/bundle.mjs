#!/usr/bin/env node
// Bundles the compiled CLI and daemon (dist/src/{cli,daemon}/main.js) into dist/bin with esbuild: Node 20
// has no module compile cache, and loading ~300 separate modules cost each `gantry` command about a
// quarter of a second. Code split at the dynamic imports, so commands still load only what they use.
// The layer tar worker (src/oci/layer-tar-worker.ts) is a second, self-contained bundle: the code that
// starts it looks for `./layer-tar-worker.js` beside itself, so it is written into every output directory
// that holds the worker-starting module (normally just `chunks/`).
//   node scripts/bundle.mjs [--dist DIR]   (default: dist)
import { chmod } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";

const at = process.argv.indexOf("--dist");
const dist = resolve(at > 0 ? process.argv[at + 1] : "dist");
const entries = [join(dist, "src/cli/main.js"), join(dist, "src/daemon/main.js")];
const main = await build({
  entryPoints: entries,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: join(dist, "bin"),
  entryNames: "[dir]/[name]",
  chunkNames: "chunks/[name]-[hash]",
  // The native addon stays a package; CommonJS dependencies bundled into ESM need a real `require`.
  external: ["better-sqlite3"],
  banner: { js: "import { createRequire as __gantryRequire } from 'node:module'; const require = __gantryRequire(import.meta.url);" },
  sourcemap: "linked",
  logLevel: "warning",
  metafile: true,
});
const starter = relative(process.cwd(), join(dist, "src/oci/layer-tar-pool.js"));
const workerDirs = new Set(Object.entries(main.metafile.outputs)
  .filter(([, o]) => Object.hasOwn(o.inputs, starter))
  .map(([file]) => dirname(resolve(file))));
if (workerDirs.size === 0) throw new Error(`bundle.mjs: no output contains ${starter}; where does the layer tar worker go?`);
for (const dir of workerDirs) {
  await build({
    entryPoints: [join(dist, "src/oci/layer-tar-worker.js")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile: join(dir, "layer-tar-worker.js"),
    sourcemap: "linked",
    logLevel: "warning",
  });
}
for (const bin of ["cli/main.js", "daemon/main.js"]) await chmod(join(dist, "bin", bin), 0o755);
