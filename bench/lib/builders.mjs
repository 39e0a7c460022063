// The three builders the suite compares, behind one shape:
//   detect()  → { ok, version, reason }   (run time: missing or broken builders are skipped with a reason)
//   reset()   → drop the build cache, keep the base image local (untimed; makes the next build cold)
//   build(req) → { seconds, exportSeconds, log }   (timed, wall clock)
// req = { scenario, dockerfileDir, contextDir, exportGzip, log }.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { capture, runTimed, tail } from "./run-cmd.mjs";
import { exportLayersSeconds } from "./progress-log.mjs";

export const BASE_IMAGE = "localhost:5000/cf/busybox:1";

/** A tiny Dockerfile that pulls the base image and runs one container: the availability probe. */
function probeDir(tmp) {
  const dir = join(tmp, "probe");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "Dockerfile"), `FROM ${BASE_IMAGE}\nRUN true\n`);
  return dir;
}

async function probe(builder, tmp) {
  const dir = probeDir(tmp);
  try {
    await builder.build({ scenario: "probe", dockerfileDir: dir, contextDir: dir, log: join(tmp, "logs", `probe-${builder.name}.log`) });
    return undefined;
  } catch (err) {
    return `probe build failed: ${String(err.message).split("\n").slice(-3).join(" | ")}`;
  }
}

/** Removes a Gantry state dir, refusing when something is still mounted under it. */
function wipeRoot(root) {
  const mounted = readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4]?.startsWith(`${root}/`));
  if (mounted) throw new Error(`cannot reset Gantry: mounts remain under ${root}`);
  rmSync(root, { recursive: true, force: true });
}

/**
 * Gantry through its CLI: `embedded` runs the engine in the CLI process, state under `tmp`/gantry-root; the
 * daemon variant drives a private gantryd (started by detect(), stopped when the driver exits) over a unix
 * socket, state under `tmp`/gantryd-root — the like-for-like comparison with Docker's resident BuildKit. The
 * CLI is `dist/` unless GANTRY_BENCH_DIST names another build output or GANTRY_BENCH_CLI another command.
 */
export function gantryBuilder(repo, tmp, { daemon = false } = {}) {
  const dist = process.env.GANTRY_BENCH_DIST ?? join(repo, "dist");
  const cli = process.env.GANTRY_BENCH_CLI?.split(" ") ?? [process.execPath, join(dist, "bin/cli/main.js")];
  const root = join(tmp, daemon ? "gantryd-root" : "gantry-root");
  const sock = join(tmp, "gantryd", "gantryd.sock");
  const base = daemon ? [...cli, "--addr", `unix://${sock}`] : [...cli, "--root", root];
  const name = daemon ? "gantryd" : "gantry";
  let child;
  const notes = daemon ? ["the CLI drives a resident gantryd over a unix socket (context sent through the session, as buildctl does)"] : [];
  const b = {
    name,
    label: daemon ? "Gantry (gantryd)" : "Gantry",
    notes,
    async detect() {
      if (!process.env.GANTRY_BENCH_CLI && !existsSync(cli[1])) {
        return { ok: false, reason: `${cli[1]} is missing: run npx tsc -p tsconfig.json (or bench/run.sh --build)` };
      }
      if (daemon) {
        const started = await startDaemon(dist, root, sock, join(tmp, "logs", "gantryd.log"));
        child = started.child;
        if (started.why) return { ok: false, reason: started.why };
      }
      const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
      const head = await capture(["git", "-C", repo, "rev-parse", "--short", "HEAD"]);
      const reason = await probe(b, tmp);
      return { ok: !reason, reason, version: `${pkg.version} (${head ?? "no git"}, node ${process.version})` };
    },
    /** Stops the daemon this builder started (SIGTERM, then SIGKILL after 15 s). */
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
    async reset() {
      const r = await runTimed([...base, "prune", "--all"], { log: join(tmp, "logs", `${name}-prune.log`), allowFail: true });
      if (r.code !== 0) {
        if (daemon) throw new Error(`gantryd prune failed: ${tail(r.log, 1)}`);
        if (notes.length === 0) notes.push(`prune failed (${tail(r.log, 1)}), so each cold run starts from an empty --root`);
        wipeRoot(root);
      }
      const dir = probeDir(tmp); // have the base image again, untimed, as the other builders keep theirs
      await b.build({ scenario: "probe", dockerfileDir: dir, contextDir: dir, log: join(tmp, "logs", `${name}-warm.log`) });
    },
    async build(req) {
      const dest = join(tmp, "out", `${name}-${req.scenario}.tar`);
      mkdirSync(join(tmp, "out"), { recursive: true });
      // Like `docker build -t`, the image goes to the builder's own store (Gantry's content store: gzip
      // layer blobs, config, manifest); the export scenario writes the gzip OCI tarball it measures.
      const output = req.exportGzip ? `type=oci,dest=${dest}` : `type=image,name=gantry-bench/${req.scenario}`;
      const r = await runTimed([...base, "build", "--frontend", "dockerfile.v0",
        "--local", `context=${req.contextDir}`, "--local", `dockerfile=${req.dockerfileDir}`,
        "--output", output, "--progress", "plain"], { log: req.log, cwd: repo });
      return { seconds: r.seconds, exportSeconds: exportLayersSeconds(readFileSync(r.log, "utf8")), log: r.log };
    },
  };
  return b;
}

/**
 * Starts gantryd on `sock` and waits until it answers: `{ child }`, or `{ child, why }` when it exits or
 * does not answer within 30 s. The caller stops the child (builder.stop).
 */
async function startDaemon(dist, root, sock, log) {
  mkdirSync(dirname(sock), { recursive: true });
  mkdirSync(dirname(log), { recursive: true });
  rmSync(sock, { force: true });
  const fd = openSync(log, "w");
  const daemon = spawn(process.execPath, [join(dist, "bin/daemon/main.js"), "--addr", `unix://${sock}`, "--root", root],
    { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const cli = [process.execPath, join(dist, "bin/cli/main.js"), "--addr", `unix://${sock}`];
  for (let i = 0; i < 60; i++) {
    if (daemon.exitCode !== null) return { child: daemon, why: `gantryd exited: ${tail(log, 3)}` };
    if (existsSync(sock) && (await capture([...cli, "debug", "workers"]))) return { child: daemon };
    await new Promise((r) => setTimeout(r, 500));
  }
  return { child: daemon, why: `gantryd did not answer on ${sock} within 30 s: ${tail(log, 3)}` };
}

/** Docker's embedded BuildKit (`DOCKER_BUILDKIT=1 docker build`), images go to dockerd's image store. */
export function dockerBuilder(tmp) {
  const cli = process.env.DOCKER_CLI ?? (existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");
  const env = { DOCKER_BUILDKIT: "1" };
  const b = {
    name: "docker",
    label: "Docker BuildKit",
    notes: ["exports to dockerd's image store (no OCI exporter in dockerd 20.10; layers stay uncompressed)"],
    async detect() {
      const marker = join(tmp, "docker", "unavailable");
      if (existsSync(marker)) return { ok: false, reason: readFileSync(marker, "utf8").trim() };
      if (!(await capture([cli, "--version"], env))) return { ok: false, reason: "docker.io is not installed (apt-get install docker.io)" };
      const server = await capture([cli, "version", "--format", "{{.Server.Version}}"], env);
      if (!server) return { ok: false, reason: `no dockerd answers at ${process.env.DOCKER_HOST ?? "the default socket"} (bench/run.sh starts one)` };
      const reason = await probe(b, tmp);
      return { ok: !reason, reason, version: `dockerd ${server}` };
    },
    async reset() {
      await runTimed([cli, "builder", "prune", "-af"], { env, log: join(tmp, "logs", "docker-prune.log") });
      const dir = probeDir(tmp);
      await b.build({ scenario: "probe", dockerfileDir: dir, contextDir: dir, log: join(tmp, "logs", "docker-warm.log") });
    },
    async build(req) {
      const r = await runTimed([cli, "build", "--network", "host", "--progress", "plain", "-t", `gantry-bench/${req.scenario}`,
        "-f", join(req.dockerfileDir, "Dockerfile"), req.contextDir], { env, log: req.log });
      return { seconds: r.seconds, exportSeconds: exportLayersSeconds(readFileSync(r.log, "utf8")), log: r.log };
    },
  };
  return b;
}

/** buildah bud (chroot isolation unless BUILDAH_ISOLATION says otherwise), storage under `tmp`/buildah. */
export function buildahBuilder(tmp) {
  const isolation = process.env.BUILDAH_ISOLATION ?? "chroot";
  const g = ["buildah", "--root", join(tmp, "buildah", "root"), "--runroot", join(tmp, "buildah", "run"), "--storage-driver", "overlay"];
  const b = {
    name: "buildah",
    label: "buildah",
    notes: [`bud --isolation ${isolation} --layers --jobs 64; the export scenario adds \`buildah push oci-archive:\` (gzip)`],
    async detect() {
      const v = await capture(["buildah", "--version"]);
      if (!v) return { ok: false, reason: "buildah is not installed (apt-get install buildah)" };
      const reason = await probe(b, tmp);
      return { ok: !reason, reason, version: v.replace(/^buildah version /, "") };
    },
    async reset() {
      const log = join(tmp, "logs", "buildah-reset.log");
      await runTimed([...g, "rm", "--all"], { log, allowFail: true });
      await runTimed([...g, "rmi", "--all", "--force"], { log, allowFail: true });
      await runTimed([...g, "pull", "--tls-verify=false", BASE_IMAGE], { log });
    },
    async build(req) {
      const tag = `gantry-bench/${req.scenario}`;
      const r = await runTimed([...g, "bud", "--isolation", isolation, "--network", "host", "--tls-verify=false",
        "--layers", "--jobs", "64", "-t", tag, "-f", join(req.dockerfileDir, "Dockerfile"), req.contextDir], { log: req.log });
      if (!req.exportGzip) return { seconds: r.seconds, log: r.log };
      const dest = join(tmp, "out", `buildah-${req.scenario}.tar`);
      mkdirSync(join(tmp, "out"), { recursive: true });
      const p = await runTimed(["bash", "-c", `rm -f "$1" && exec "\${@:2}"`, "push", dest, ...g, "push", "--format", "oci",
        "--compression-format", "gzip", tag, `oci-archive:${dest}`], { log: `${req.log}.push` });
      return { seconds: r.seconds + p.seconds, exportSeconds: p.seconds, log: r.log };
    },
  };
  return b;
}
