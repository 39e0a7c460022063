// SSH agent forwarding end to end in one process: a fake agent on a unix socket, a ClientSession serving
// it, the daemon's SessionManager, and the mount's socket that a "container" process connects to.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClientSession } from "./client-session.js";
import { SessionManager } from "./session-manager.js";
import { Channel } from "./testing/memory-pipe.js";
import { withSshAgents } from "./ssh-agent-service.js";
import { hasSshForwarding, type SshForwarding } from "./ssh-forwarding.js";
import { listenSshSocket } from "./ssh-socket-server.js";
import { createDirectSession } from "./direct-session.js";
import { codeOf } from "../util/errors.js";

/** A fake agent: answers each chunk at once with "ack:<chunk>", and "bye:<all>" after the caller's half-close. */
async function fakeAgent(dir: string): Promise<{ path: string; server: Server; connections: () => number }> {
  const path = join(dir, "agent.sock");
  let n = 0;
  const server = createServer({ allowHalfOpen: true }, (conn) => {
    n++;
    const seen: Buffer[] = [];
    conn.on("data", (c: Buffer) => {
      seen.push(c);
      conn.write(`ack:${c.toString()}`);
    });
    conn.on("end", () => conn.end(`bye:${Buffer.concat(seen).toString()}`));
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, server, connections: () => n };
}

function attach(client: ClientSession, manager: SessionManager): void {
  const toDaemon = new Channel<Uint8Array>();
  const toClient = new Channel<Uint8Array>();
  const clientOut = client.serve(toClient);
  const daemonOut = manager.handleSession(client.headers(), toDaemon);
  const pump = async (src: AsyncIterable<Uint8Array>, dst: Channel<Uint8Array>): Promise<void> => {
    for await (const chunk of src) dst.push(Buffer.from(chunk));
    dst.end();
  };
  void pump(clientOut, toDaemon);
  void pump(daemonOut, toClient);
}

/** Connects to `path`, sends `first`, waits for its ack, sends `second`, half-closes, returns all it read. */
async function talk(path: string, first: string, second: string): Promise<string> {
  const sock: Socket = createConnection({ path, allowHalfOpen: true });
  const got: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    sock.on("end", resolve);
    sock.on("error", reject);
  });
  const acked = new Promise<void>((resolve) => sock.once("data", () => resolve()));
  sock.on("data", (c: Buffer) => got.push(c));
  sock.write(first);
  await acked;
  sock.end(second);
  await ended;
  sock.destroy();
  return Buffer.concat(got).toString();
}

async function exercise(fwd: SshForwarding, dir: string): Promise<void> {
  await fwd.checkSsh("default");
  await assert.rejects(fwd.checkSsh("deploy"), (err) => codeOf(err) === "NotFound" && /no SSH key "deploy" forwarded/.test(String(err)));
  const ac = new AbortController();
  const sock = await listenSshSocket(fwd, { id: "default", parentDir: dir, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, mode: 0o600, signal: ac.signal });
  assert.equal((await stat(sock.path)).mode & 0o777, 0o600);
  // Two connections at once, each its own stream to the agent.
  const [a, b] = await Promise.all([talk(sock.path, "req1", "+end1"), talk(sock.path, "req2", "+end2")]);
  assert.equal(a, "ack:req1ack:+end1bye:req1+end1");
  assert.equal(b, "ack:req2ack:+end2bye:req2+end2");
  ac.abort();
  await sock.close();
  await assert.rejects(stat(sock.path), /ENOENT/);
}

test("agent bytes travel both ways through the session, with half-closes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-ssh-"));
  const agent = await fakeAgent(dir);
  const client = new ClientSession({ ssh: { default: agent.path } });
  const manager = new SessionManager({ healthIntervalMs: 0 });
  try {
    assert.ok(client.methods.includes("/moby.sshforward.v1.SSH/ForwardAgent"));
    const pending = manager.getSession(client.id, { timeoutMs: 2000 });
    attach(client, manager);
    const session = await pending;
    assert.ok(hasSshForwarding(session));
    await exercise(session, dir);
    assert.equal(agent.connections(), 2);
  } finally {
    client.close();
    manager.close();
    agent.server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a session whose client forwards no agent names the missing id", async () => {
  const client = new ClientSession({});
  const manager = new SessionManager({ healthIntervalMs: 0 });
  try {
    const pending = manager.getSession(client.id, { timeoutMs: 2000 });
    attach(client, manager);
    const session = await pending;
    await assert.rejects(session.checkSsh("default"), (err) => codeOf(err) === "NotFound" && /--ssh default/.test(String(err)));
  } finally {
    client.close();
    manager.close();
  }
});

test("the embedded mode forwards straight to the local agent socket", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-ssh-"));
  const agent = await fakeAgent(dir);
  try {
    const session = withSshAgents(createDirectSession({ locals: {}, secrets: {} }), { default: agent.path });
    await exercise(session, dir);
    assert.equal(agent.connections(), 2);
  } finally {
    agent.server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
