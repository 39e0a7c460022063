// RUN --mount=type=ssh with a real ssh-agent: `ssh-add -l` inside the container lists the key the host's
// agent holds, in the embedded engine and through gantryd's session; a mount the client does not forward
// fails naming its id, unless it is optional.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Control } from "../../src/gen/moby/buildkit/v1/control_pb.js";
import { openController } from "../../src/control/controller.js";
import { ClientSession, newSessionId } from "../../src/session/client-session.js";
import { createDirectSession } from "../../src/session/direct-session.js";
import { withSshAgents } from "../../src/session/ssh-agent-service.js";
import { attachSession } from "./helpers/attach-session.js";
import { requires } from "./helpers/requires.js";
import { runGantry } from "./helpers/gantry-cli.js";
import { startDaemon, type RunningDaemon } from "./helpers/daemon.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true, tools: ["ssh-agent", "ssh-add", "ssh-keygen"] } as const;
const base = process.env.GANTRY_TEST_DIR ?? tmpdir();
const daemonSock = join(base, "gantryd-ssh.sock");
let work = "";
let agentSock = "";
let agent: ChildProcess | undefined;
let daemon: RunningDaemon | undefined;
let hostKeys = "";

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  if (process.getuid?.() !== 0) return;
  try {
    execFileSync("sh", ["-c", "command -v ssh-agent && command -v ssh-add && command -v ssh-keygen"], { stdio: "ignore" });
  } catch {
    return; // requires() reports the missing tool in each test
  }
  work = await mkdtemp(join(tmpdir(), "gantry-sshfwd-"));
  agentSock = join(work, "agent.sock");
  agent = spawn("ssh-agent", ["-D", "-a", agentSock], { stdio: "ignore" });
  const env = { ...process.env, SSH_AUTH_SOCK: agentSock };
  await waitFor(() => {
    try {
      execFileSync("ssh-add", ["-l"], { env, stdio: "ignore" });
      return true;
    } catch (err) {
      return (err as { status?: number }).status === 1; // 1 = agent up, no keys yet
    }
  }, "ssh-agent");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "gantry-test-key", "-f", join(work, "id_ed25519")]);
  execFileSync("ssh-add", ["-q", join(work, "id_ed25519")], { env, stdio: "ignore" });
  hostKeys = execFileSync("ssh-add", ["-l"], { env }).toString();
  daemon = await startDaemon(["--root", join(base, "gantryd-ssh-root"), "--addr", `unix://${daemonSock}`]);
});

after(async () => {
  await daemon?.stop();
  if (agent?.pid !== undefined && agent.exitCode === null) process.kill(agent.pid, "SIGTERM");
  if (work) await rm(work, { recursive: true, force: true });
});

/** A context whose `sshbin/` holds the host's ssh-add with its loader and libraries (busybox has no agent client). */
async function context(run: string): Promise<string> {
  const dir = await mkdtemp(join(work, "ctx-"));
  const bin = join(dir, "sshbin");
  await mkdir(bin);
  await copyFile("/usr/bin/ssh-add", join(bin, "ssh-add"));
  let loader = "";
  for (const line of execFileSync("ldd", ["/usr/bin/ssh-add"]).toString().split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (!m) continue;
    await copyFile(m[1], join(bin, basename(m[1])));
    if (!line.includes("=>")) loader = basename(m[1]);
  }
  const sshAdd = `/sshbin/${loader} --library-path /sshbin /sshbin/ssh-add`;
  await writeFile(join(dir, "Dockerfile"), [
    "FROM localhost:5000/cf/busybox:1",
    `RUN --mount=type=bind,source=sshbin,target=/sshbin ${run.replaceAll("SSH_ADD", sshAdd)}`,
  ].join("\n"));
  return dir;
}

const LIST_KEYS = "--mount=type=ssh SSH_ADD -l > /keys.txt && ls -l $SSH_AUTH_SOCK > /sock.txt";

/** Runs a Dockerfile build in-process with the test agent forwarded as `default`; returns the output dir. */
async function embeddedBuild(ctx: string): Promise<string> {
  const out = join(ctx, "out");
  const c = await openController({ root: join(base, "gantry-ssh-embedded-root") });
  try {
    const session = withSshAgents(createDirectSession({ locals: { context: ctx, dockerfile: ctx }, secrets: {} }), { default: agentSock });
    await c.solve({ frontend: "dockerfile.v0", frontendAttrs: {}, exports: [{ type: "local", attrs: { dest: out } }], noCache: true, session },
      { progress: () => undefined });
  } finally {
    await c.close();
  }
  return out;
}

test("embedded: ssh-add -l in the container reaches the host's agent", async (t) => {
  if (!requires(t, NEEDS)) return;
  const ctx = await context(LIST_KEYS);
  const out = await embeddedBuild(ctx);
  assert.equal(await readFile(join(out, "keys.txt"), "utf8"), hostKeys);
  assert.match(hostKeys, /gantry-test-key/);
  assert.match(await readFile(join(out, "sock.txt"), "utf8"), /^srw-------\s.*\/run\/buildkit\/ssh_agent\.0$/m);
});

/** Runs a Dockerfile build through gantryd with a hand-made session (Gantry's CLI client is not needed). */
async function daemonBuild(ctx: string, ssh: Record<string, string>): Promise<string> {
  const transport = createGrpcTransport({ baseUrl: "http://localhost", nodeOptions: { createConnection: () => netConnect(daemonSock) } });
  const control = createClient(Control, transport);
  const out = join(ctx, "out");
  const session = new ClientSession({ locals: { context: ctx, dockerfile: ctx }, exports: [{ type: "dir", path: out }], ssh });
  const attachment = attachSession(control, session);
  try {
    await control.solve({ Ref: newSessionId(), Session: session.id, Frontend: "dockerfile.v0", FrontendAttrs: { "no-cache": "" },
      Exporters: [{ Type: "local", Attrs: {} }] });
    return out;
  } finally {
    session.close();
    await attachment.detach();
  }
}

test("the forwarded agent is read-only: a build cannot remove the user's keys", async (t) => {
  if (!requires(t, NEEDS)) return;
  const ctx = await context("--mount=type=ssh SSH_ADD -D > /remove.txt 2>&1; echo $? > /remove.rc; SSH_ADD -l > /keys.txt");
  const out = await embeddedBuild(ctx);
  assert.notEqual((await readFile(join(out, "remove.rc"), "utf8")).trim(), "0", "ssh-add -D was refused");
  assert.equal(await readFile(join(out, "keys.txt"), "utf8"), hostKeys, "the key is still listed in the build");
  assert.equal(execFileSync("ssh-add", ["-l"], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } }).toString(), hostKeys, "and on the host");
});

test("gantryd: each agent connection becomes a ForwardAgent call on the client's session", async (t) => {
  if (!requires(t, NEEDS)) return;
  const ctx = await context(`${LIST_KEYS.replace("type=ssh", "type=ssh,id=deploy,target=/tmp/agent,mode=0640")} && SSH_ADD -l >> /keys.txt`);
  const out = await daemonBuild(ctx, { deploy: agentSock });
  assert.equal(await readFile(join(out, "keys.txt"), "utf8"), hostKeys + hostKeys, "two connections, two answers");
  assert.match(await readFile(join(out, "sock.txt"), "utf8"), /^srw-r-----\s.*\/tmp\/agent$/m);
});

test("gantryd: a required agent the client does not forward fails naming it; an optional one is left out", async (t) => {
  if (!requires(t, NEEDS)) return;
  const missing = await context("--mount=type=ssh,id=deploy,required=true true");
  await assert.rejects(daemonBuild(missing, {}), /no SSH key "deploy" forwarded from the client/);
  const optional = await context("--mount=type=ssh,id=deploy test ! -e /run/buildkit/ssh_agent.0 && echo absent > /r.txt");
  const out = await daemonBuild(optional, { default: agentSock });
  assert.equal(await readFile(join(out, "r.txt"), "utf8"), "absent\n");
});

test("gantry build --ssh: embedded and through gantryd, from an agent or a key file; an unset agent is refused before building", async (t) => {
  if (!requires(t, NEEDS)) return;
  const ctx = await context(LIST_KEYS);
  const args = (out: string): string[] => ["build", "--frontend", "dockerfile.v0", "--local", `context=${ctx}`, "--local", `dockerfile=${ctx}`,
    "--ssh", "default", "--progress", "plain", "--no-cache", "--output", `type=local,dest=${out}`];
  const env = { SSH_AUTH_SOCK: agentSock };
  const embedded = await runGantry(["--root", join(base, "gantry-ssh-embedded-root"), ...args(join(ctx, "out-embedded"))], { env });
  assert.equal(embedded.code, 0, embedded.stderr);
  assert.equal(await readFile(join(ctx, "out-embedded", "keys.txt"), "utf8"), hostKeys);
  const viaDaemon = await runGantry(["--addr", `unix://${daemonSock}`, ...args(join(ctx, "out-daemon"))], { env });
  assert.equal(viaDaemon.code, 0, viaDaemon.stderr);
  assert.equal(await readFile(join(ctx, "out-daemon", "keys.txt"), "utf8"), hostKeys);
  const unset = await runGantry(["--addr", `unix://${daemonSock}`, ...args(join(ctx, "x"))], { env: { SSH_AUTH_SOCK: "" } });
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /SSH_AUTH_SOCK is set/);
  // A key file: the CLI serves it from its own agent, so the build lists that key without any ssh-agent.
  const withKey = args(join(ctx, "out-keyfile")).map((a) => (a === "default" ? `default=${join(work, "id_ed25519")}` : a));
  const keyFile = await runGantry(["--addr", `unix://${daemonSock}`, ...withKey], { env: { SSH_AUTH_SOCK: "" } });
  assert.equal(keyFile.code, 0, keyFile.stderr);
  const fingerprint = execFileSync("ssh-keygen", ["-l", "-f", `${join(work, "id_ed25519")}.pub`]).toString().split(" ")[1];
  assert.ok((await readFile(join(ctx, "out-keyfile", "keys.txt"), "utf8")).includes(fingerprint));
});
