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
import { agentMessages } from "./ssh-agent-filter.js";

/** One agent-protocol message: length, type byte, body. */
function msg(type: number, body = ""): Buffer {
  const b = Buffer.from(body);
  const m = Buffer.alloc(5 + b.length);
  m.writeUInt32BE(1 + b.length, 0);
  m[4] = type;
  b.copy(m, 5);
  return m;
}

/** Replies read back as "type:body" strings. */
async function replies(chunks: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const m of agentMessages(chunks)) out.push(`${m[4]}:${m.subarray(5).toString()}`);
  return out;
}

/** A fake agent speaking the agent protocol: keys for 11, a "signature" of the body for 13, SUCCESS else. */
async function fakeAgent(dir: string): Promise<{ path: string; server: Server; connections: () => number; seen: number[] }> {
  const path = join(dir, "agent.sock");
  let n = 0;
  const seen: number[] = [];
  const server = createServer({ allowHalfOpen: true }, (conn) => {
    n++;
    void (async () => {
      for await (const m of agentMessages(conn)) {
        seen.push(m[4]);
        conn.write(m[4] === 11 ? msg(12, "keys") : m[4] === 13 ? msg(14, `signed:${m.subarray(5).toString()}`) : msg(6));
      }
      conn.end();
    })().catch(() => conn.destroy());
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, server, connections: () => n, seen };
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

/**
 * Connects to `path`: a sign request, then after its answer a remove-all (which the read-only agent must
 * refuse) and a key listing, then a half-close; returns every reply read until the end.
 */
async function talk(path: string, label: string): Promise<string[]> {
  const sock: Socket = createConnection({ path, allowHalfOpen: true });
  sock.on("error", () => undefined);
  const first = new Promise<void>((resolve) => sock.once("data", () => resolve()));
  const all = replies(sock);
  sock.write(msg(13, label));
  await first;
  sock.end(Buffer.concat([msg(19), msg(11)]));
  const got = await all;
  sock.destroy();
  return got;
}

async function exercise(fwd: SshForwarding, dir: string): Promise<void> {
  await fwd.checkSsh("default");
  await assert.rejects(fwd.checkSsh("deploy"), (err) => codeOf(err) === "NotFound" && /no SSH key "deploy" forwarded/.test(String(err)));
  const ac = new AbortController();
  const sock = await listenSshSocket(fwd, { id: "default", parentDir: dir, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, mode: 0o600, signal: ac.signal });
  assert.equal((await stat(sock.path)).mode & 0o777, 0o600);
  // Two connections at once, each its own stream to the agent; answers keep their order after the half-close.
  const [a, b] = await Promise.all([talk(sock.path, "req1"), talk(sock.path, "req2")]);
  assert.deepEqual(a, ["14:signed:req1", "5:", "12:keys"]);
  assert.deepEqual(b, ["14:signed:req2", "5:", "12:keys"]);
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
    const pending = manager.getSession(client.id, { timeoutMs: 30_000 });
    attach(client, manager);
    const session = await pending;
    assert.ok(hasSshForwarding(session));
    await exercise(session, dir);
    assert.equal(agent.connections(), 2);
    assert.ok(!agent.seen.includes(19), "remove-all never reached the agent");
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
    const pending = manager.getSession(client.id, { timeoutMs: 30_000 });
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
    assert.deepEqual(agent.seen.sort(), [11, 11, 13, 13], "only listing and signing reached the agent");
  } finally {
    agent.server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
