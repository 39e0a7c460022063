// Registry credentials over the session: the client answers Credentials, the daemon asks once per host and
// build, and a build's scope makes every docker-config lookup ask the session instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerConfigCredentials, withBuildCredentials, type RegistryCredentials } from "../registry/docker-config-auth.js";
import { ClientSession } from "./client-session.js";
import { SessionManager } from "./session-manager.js";
import { Channel } from "./testing/memory-pipe.js";
import type { GrpcBuildSession } from "./grpc-build-session.js";

async function connected(client: ClientSession, manager: SessionManager): Promise<GrpcBuildSession> {
  const toDaemon = new Channel<Uint8Array>();
  const toClient = new Channel<Uint8Array>();
  const pending = manager.getSession(client.id, { timeoutMs: 30_000 });
  const pump = async (src: AsyncIterable<Uint8Array>, dst: Channel<Uint8Array>): Promise<void> => {
    for await (const chunk of src) dst.push(Buffer.from(chunk));
    dst.end();
  };
  void pump(client.serve(toClient), toDaemon);
  void pump(manager.handleSession(client.headers(), toDaemon), toClient);
  return pending;
}

test("the daemon gets the client's credentials, once per host; identity tokens and anonymous hosts keep their meaning", async () => {
  const asked: string[] = [];
  const table: Record<string, RegistryCredentials> = {
    "reg.example:5000": { username: "alice", password: "pw" },
    "docker.io": { identityToken: "refresh-me" },
  };
  const client = new ClientSession({ registryAuth: async (host) => {
    asked.push(host);
    return table[host];
  } });
  const manager = new SessionManager({ healthIntervalMs: 0 });
  try {
    const session = await connected(client, manager);
    const source = session.registryCredentials();
    assert.ok(source, "the client advertises Auth/Credentials");
    assert.deepEqual(await source("reg.example:5000"), { username: "alice", password: "pw" });
    assert.deepEqual(await source("reg.example:5000"), { username: "alice", password: "pw" });
    assert.deepEqual(await source("docker.io"), { identityToken: "refresh-me" });
    assert.equal(await source("other.example"), undefined);
    assert.deepEqual(asked, ["reg.example:5000", "docker.io", "other.example"]);

    // Inside a build's scope, the daemon's docker-config source asks the session instead of its file.
    const daemonDir = await mkdtemp(join(tmpdir(), "gantry-daemoncfg-"));
    await writeFile(join(daemonDir, "config.json"), JSON.stringify({ auths: { "reg.example:5000": { username: "daemon", password: "x" } } }));
    try {
      const daemonConfig = dockerConfigCredentials({ configDir: daemonDir });
      assert.equal((await daemonConfig("reg.example:5000"))?.username, "daemon");
      const scoped = await withBuildCredentials(source, async () => {
        await new Promise((r) => setTimeout(r, 1)); // the scope follows the async work the build starts
        return daemonConfig("reg.example:5000");
      });
      assert.equal(scoped?.username, "alice");
      const clientOwn = dockerConfigCredentials({ configDir: daemonDir, followBuildScope: false });
      assert.equal((await withBuildCredentials(source, () => clientOwn("reg.example:5000")))?.username, "daemon");
    } finally {
      await rm(daemonDir, { recursive: true, force: true });
    }
  } finally {
    client.close();
    manager.close();
  }
});

test("a client that offers no credentials leaves the daemon without a session source", async () => {
  const client = new ClientSession({ registryAuth: false });
  const manager = new SessionManager({ healthIntervalMs: 0 });
  try {
    const session = await connected(client, manager);
    assert.equal(session.registryCredentials(), undefined);
  } finally {
    client.close();
    manager.close();
  }
});
