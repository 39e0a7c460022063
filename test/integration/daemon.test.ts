// gantryd with Gantry's client: unix socket and tcp+mTLS (refused without a certificate), a Dockerfile
// build with a local context, a secret and a local export, cancellation, and concurrent clients.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./helpers/auth-registry.js";
import { requires } from "./helpers/requires.js";
import { runGantry } from "./helpers/gantry-cli.js";
import { startDaemon, type RunningDaemon } from "./helpers/daemon.js";
import type { WarningEvent } from "../../src/util/progress-event.js";
import { connect } from "../../src/client/connect.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true, tools: ["openssl"] } as const;
const base = process.env.GANTRY_TEST_DIR ?? tmpdir();
const sock = join(base, "gantryd-test.sock");
// Chosen when the daemon starts: a fixed port can be held by another run of these tests on the machine.
let tcpPort = 0;
let daemon: RunningDaemon | undefined;
let certs = "";

function makeCerts(dir: string): void {
  const sh = (cmd: string): void => void execFileSync("sh", ["-c", cmd], { cwd: dir, stdio: "pipe" });
  sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca");
  sh("openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost");
  sh("printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' > san.ext && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile san.ext");
  sh("openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=client");
  sh("openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1");
}

before(async () => {
  if (process.getuid?.() !== 0) return;
  certs = await mkdtemp(join(tmpdir(), "gantry-certs-"));
  try {
    makeCerts(certs);
  } catch {
    return; // requires() reports the missing tool in each test
  }
  tcpPort = await freePort();
  daemon = await startDaemon(["--root", join(base, "gantryd-root"), "--addr", `unix://${sock}`, "--addr", `tcp://127.0.0.1:${tcpPort}`,
    "--tlscacert", join(certs, "ca.pem"), "--tlscert", join(certs, "server.pem"), "--tlskey", join(certs, "server.key")]);
});

after(async () => {
  await daemon?.stop();
});

const unixAddr = ["--addr", `unix://${sock}`];
const tlsAddr = () => ["--addr", `tcp://127.0.0.1:${tcpPort}`, "--tlscacert", join(certs, "ca.pem"), "--tlscert", join(certs, "client.pem"),
  "--tlskey", join(certs, "client.key"), "--tlsservername", "localhost"];

async function dockerContext(dockerfile: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-dctx-"));
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  for (const [k, v] of Object.entries(files)) await writeFile(join(dir, k), v);
  return dir;
}

test("debug workers over the unix socket and over tcp with mTLS; no certificate is refused", async (t) => {
  if (!requires(t, NEEDS)) return;
  const viaUnix = await runGantry([...unixAddr, "debug", "workers"]);
  assert.equal(viaUnix.code, 0, viaUnix.stderr);
  assert.match(viaUnix.stdout.toString(), /linux\/(amd64|arm64)/);
  const viaTls = await runGantry([...tlsAddr(), "debug", "workers"]);
  assert.equal(viaTls.code, 0, viaTls.stderr);
  const noCert = await runGantry(["--addr", `tcp://127.0.0.1:${tcpPort}`, "--tlscacert", join(certs, "ca.pem"), "--tlsservername", "localhost", "debug", "workers"]);
  assert.equal(noCert.code, 1);
  assert.match(noCert.stderr, /^error: /m);
});

test("a Dockerfile build with a local context and a secret exports to a client directory", async (t) => {
  if (!requires(t, NEEDS)) return;
  const dir = await dockerContext([
    "FROM localhost:5000/cf/busybox:1",
    "COPY hello.txt /hello.txt",
    "RUN --mount=type=secret,id=token cat /run/secrets/token > /token-seen",
  ].join("\n"), { "hello.txt": "hello from the client\n", "token.txt": "t0ken" });
  const out = join(dir, "out");
  const res = await runGantry([...tlsAddr(), "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`, "--local", `dockerfile=${dir}`,
    "--secret", `id=token,src=${join(dir, "token.txt")}`, "--progress", "plain", "--output", `type=local,dest=${out}`]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(await readFile(join(out, "hello.txt"), "utf8"), "hello from the client\n");
  assert.equal(await readFile(join(out, "token-seen"), "utf8"), "t0ken");
  assert.match(res.stderr, /#\d+ \[internal\] load build context/);
});

test("eight clients build at once", async (t) => {
  if (!requires(t, NEEDS)) return;
  const builds = Array.from({ length: 8 }, async (_, i) => {
    const dir = await dockerContext(`FROM localhost:5000/cf/busybox:1\nRUN echo build-${i} > /which\n`);
    const tar = join(dir, "out.tar");
    const res = await runGantry([...unixAddr, "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`, "--local", `dockerfile=${dir}`,
      "--progress", "quiet", "--output", `type=tar,dest=${tar}`]);
    assert.equal(res.code, 0, `build ${i}: ${res.stderr}`);
    assert.equal(execFileSync("tar", ["-xOf", tar, "which"], { encoding: "utf8" }), `build-${i}\n`);
  });
  await Promise.all(builds);
});

test("interrupting the client cancels the build on the daemon, which cleans up", async (t) => {
  if (!requires(t, NEEDS)) return;
  // An unusual duration matched exactly: a plain `sleep 60` elsewhere on the machine (another run of these
  // tests, another build) was once taken for this build's container and outlived it.
  const secs = 1000 + Math.floor(Math.random() * 9000);
  const sleeping = (): boolean => execFileSync("sh", ["-c", `pgrep -f '^sleep ${secs}$' || true`], { encoding: "utf8" }).trim() !== "";
  const dir = await dockerContext(`FROM localhost:5000/cf/busybox:1\nRUN echo started && sleep ${secs}\n`);
  const ac = new AbortController();
  const running = runGantry([...unixAddr, "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`, "--local", `dockerfile=${dir}`,
    "--progress", "plain", "--output", "type=tar,dest=/dev/null"], { signal: ac.signal }).catch(() => undefined);
  const deadline = Date.now() + 30_000;
  while (!sleeping()) {
    assert.ok(Date.now() < deadline, "the build never started its container");
    await new Promise((r) => setTimeout(r, 100));
  }
  ac.abort();
  await running;
  const gone = Date.now() + 30_000; // the sleep would last 1000 s+; a loaded machine may take seconds to kill it
  while (sleeping()) {
    assert.ok(Date.now() < gone, "the container outlived the client");
    await new Promise((r) => setTimeout(r, 100));
  }
  // The daemon cleans up after the container dies (runc state, then the rootfs mount): give it a moment.
  const runcRoot = join(base, "gantryd-root", "executor", "runc");
  const leftovers = async (): Promise<string[]> => [
    ...execFileSync("runc", ["--root", runcRoot, "list", "-q"], { encoding: "utf8" }).trim().split("\n").filter(Boolean),
    ...(await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(join(base, "gantryd-root", "executor"))),
  ];
  const clean = Date.now() + 10_000;
  while ((await leftovers()).length > 0 && Date.now() < clean) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await leftovers(), [], "no runc container and no mount left under the executor");
});

test("a build check warning reaches the client through gantryd with its file and line range", async (t) => {
  if (!requires(t, NEEDS)) return;
  const ctx = await mkdtemp(join(tmpdir(), "gantry-warn-"));
  // FromAsCasing: `FROM … as` mixes cases on line 1.
  await writeFile(join(ctx, "Dockerfile"), "FROM localhost:5000/cf/busybox:1 as base\nRUN true\n");
  const client = await connect({ addr: `unix://${sock}` });
  const warnings: WarningEvent[] = [];
  try {
    await client.solve({
      frontend: "dockerfile.v0", locals: { context: ctx, dockerfile: ctx }, exports: [],
      onProgress: (e) => { if (e.type === "warning") warnings.push(e); },
    });
  } finally {
    await client.close();
  }
  const w = warnings.find((e) => e.short.includes("FromAsCasing"));
  assert.ok(w, JSON.stringify(warnings));
  assert.deepEqual(w.source, { filename: "Dockerfile", language: "Dockerfile" });
  assert.equal(w.ranges?.[0]?.start.line, 1);
});
