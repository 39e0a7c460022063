// gantryd's debug address (health, Prometheus metrics counting real builds and the cache), gRPC health on
// the main socket, registry credentials taken from the client's session rather than the daemon's config,
// and a clean SIGTERM: no new connections, a running build canceled after the grace period, the socket
// removed, exit 0.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { image, marshalDefinition } from "../../src/llb/state.js";
import { startAuthRegistry } from "./helpers/auth-registry.js";
import { requires } from "./helpers/requires.js";
import { runGantry } from "./helpers/gantry-cli.js";
import { startDaemon, type RunningDaemon } from "./helpers/daemon.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;
const base = process.env.GANTRY_TEST_DIR ?? tmpdir();
const sock = join(base, "gantryd-extras.sock");
let debugUrl = "";
let daemon: RunningDaemon | undefined;

before(async () => {
  if (process.getuid?.() !== 0) return;
  // The debug address comes from the TOML key upstream uses; the grace period from the flag.
  const cfgDir = await mkdtemp(join(tmpdir(), "gantryd-cfg-"));
  const cfg = join(cfgDir, "gantryd.toml");
  // The daemon's own docker config holds no credentials: a private registry works only with the client's.
  process.env.DOCKER_CONFIG = await mkdtemp(join(tmpdir(), "gantryd-dockercfg-"));
  // Port 0: the kernel picks a free port (a fixed one can be taken by another run on the machine), and
  // gantryd names the one it got in its "listening" line.
  await writeFile(cfg, `[grpc]\ndebugAddress = "127.0.0.1:0"\n`);
  daemon = await startDaemon(["--config", cfg, "--root", join(base, "gantryd-extras-root"), "--addr", `unix://${sock}`, "--shutdown-grace", "1"]);
  const debugAddr = /; debug on (127\.0\.0\.1:\d+)/.exec(daemon.log())?.[1];
  assert.ok(debugAddr, `gantryd names its debug address:\n${daemon.log()}`);
  debugUrl = `http://${debugAddr}`;
});
after(async () => daemon?.stop());

async function context(dockerfile: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-extras-"));
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

function build(dir: string, signal?: AbortSignal): ReturnType<typeof runGantry> {
  return runGantry(["--addr", `unix://${sock}`, "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`,
    "--local", `dockerfile=${dir}`, "--progress", "plain"], { signal });
}

/** The value of one sample line of the Prometheus text. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is exported:\n${text}`);
  return Number(line.slice(series.length + 1));
}

test("the debug address serves health and metrics that count builds and the cache", async (t) => {
  if (!requires(t, NEEDS)) return;
  const health = await fetch(`${debugUrl}/debug/health`);
  assert.equal(health.status, 200);
  const before = await (await fetch(`${debugUrl}/metrics`)).text();
  const ok = await build(await context(`FROM localhost:5000/cf/busybox:1\nRUN echo ${Date.now()} > /stamp\n`));
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await build(await context("FROM localhost:5000/cf/busybox:1\nRUN exit 3\n"));
  assert.equal(bad.code, 1);
  await new Promise((r) => setTimeout(r, 5100)); // the cache size is sampled every 5 s
  const now = await (await fetch(`${debugUrl}/metrics`)).text();
  assert.equal(sample(now, "gantry_builds_started_total") - sample(before, "gantry_builds_started_total"), 2);
  assert.equal(sample(now, 'gantry_builds_finished_total{status="success"}') - sample(before, 'gantry_builds_finished_total{status="success"}'), 1);
  assert.equal(sample(now, 'gantry_builds_finished_total{status="failure"}') - sample(before, 'gantry_builds_finished_total{status="failure"}'), 1);
  assert.equal(sample(now, "gantry_builds_running"), 0);
  assert.ok(sample(now, "gantry_cache_records") >= 2, "the pulled image and the RUN result are cache records");
  assert.ok(sample(now, "gantry_cache_bytes") > 100_000, "busybox alone is over 100 kB");
});

test("gRPC health on the main socket reports SERVING", async (t) => {
  if (!requires(t, NEEDS)) return;
  const transport = createGrpcTransport({ baseUrl: "http://localhost", nodeOptions: { createConnection: () => netConnect(sock) } });
  const res = await createClient(Health, transport).check({ service: "" });
  assert.equal(res.status, HealthCheckResponse_ServingStatus.SERVING);
});

test("gantryd pushes and pulls with the credentials the client's session offers", async (t) => {
  if (!requires(t, { ...NEEDS, tools: ["docker-registry", "python3"] })) return;
  const reg = await startAuthRegistry();
  t.after(() => reg.stop());
  const clientCfg = await mkdtemp(join(tmpdir(), "gantry-clientcfg-"));
  const basic = Buffer.from(`${reg.user}:${reg.password}`).toString("base64");
  await writeFile(join(clientCfg, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: basic } } }));
  const ref = `${reg.host}/extras/app:1`;
  const stamp = `pushed-${Date.now()}`;
  const push = (env: Record<string, string>): ReturnType<typeof runGantry> => runGantry(["--addr", `unix://${sock}`, "build", "--progress", "plain",
    "--output", `type=image,name=${ref},push=true`], { stdin: marshalDefinition(image("localhost:5000/cf/busybox:1").run({ shell: `echo ${stamp} > /f` }).root()), env });

  const anonymous = await push({});
  assert.equal(anonymous.code, 1, "the daemon's own (empty) config does not let it push");
  assert.match(anonymous.stderr, /401|unauthorized|authenticat|credentials/i);
  const withCreds = await push({ DOCKER_CONFIG: clientCfg });
  assert.equal(withCreds.code, 0, withCreds.stderr);
  const pull = await runGantry(["--addr", `unix://${sock}`, "build", "--progress", "plain"],
    { stdin: marshalDefinition(image(ref).run({ shell: `test "$(cat /f)" = ${stamp}` }).root()), env: { DOCKER_CONFIG: clientCfg } });
  assert.equal(pull.code, 0, pull.stderr);
});

test("SIGTERM: the running build is canceled after the grace period, the socket goes, gantryd exits 0", async (t) => {
  if (!requires(t, NEEDS)) return;
  const proc = daemon?.proc;
  assert.ok(proc);
  const running = build(await context(`FROM localhost:5000/cf/busybox:1\nRUN echo started-${Date.now()} && sleep 45\n`));
  // Wait until the RUN step is really running (metrics say so), then stop the daemon.
  const deadline = Date.now() + 60_000;
  while (sample(await (await fetch(`${debugUrl}/metrics`)).text(), "gantry_builds_running") < 1) {
    assert.ok(Date.now() < deadline, "the build started");
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1500));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const sentAt = Date.now();
  proc.kill("SIGTERM");
  const code = await exited;
  assert.equal(code, 0, daemon?.log());
  // The RUN would sleep 45 s; the 1 s grace plus a teardown on a loaded machine stay well under 30 s.
  assert.ok(Date.now() - sentAt < 30_000, "the grace period bounds the shutdown");
  assert.equal(existsSync(sock), false, "the socket is removed");
  assert.match(daemon?.log() ?? "", /canceled 1 build\(s\) still running after the grace period/);
  const res = await running;
  assert.equal(res.code, 1);
  assert.match(res.stderr, /shutting down|cancel/i);
  await assert.rejects(fetch(`${debugUrl}/debug/health`), "the debug address is closed too");
});
