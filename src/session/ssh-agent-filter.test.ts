import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isCanceled } from "../util/errors.js";
import { agentMessages, serveReadOnlyAgent } from "./ssh-agent-filter.js";

function message(type: number, body: number[] = []): Buffer {
  const m = Buffer.alloc(5 + body.length);
  m.writeUInt32BE(1 + body.length, 0);
  m[4] = type;
  Buffer.from(body).copy(m, 5);
  return m;
}

/** A fake agent on a unix socket: answers every request with SUCCESS (6), or an empty key list for 11. */
async function fakeAgent(seen: number[]): Promise<{ path: string; server: Server }> {
  const path = join(await mkdtemp(join(tmpdir(), "fake-agent-")), "agent.sock");
  const server = createServer((sock) => {
    void (async () => {
      for await (const m of agentMessages(sock)) {
        seen.push(m[4]);
        sock.write(m[4] === 11 ? message(12, [0, 0, 0, 0]) : message(6));
      }
    })().catch(() => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, server };
}

test("listing and signing reach the agent; adding, removing, locking and extensions never do", async () => {
  const seen: number[] = [];
  const { path, server } = await fakeAgent(seen);
  try {
    const requests = Buffer.concat([message(11), message(17, [1, 2, 3]), message(13, [9]), message(19), message(22), message(27), message(23)]);
    // Cut the stream at awkward places, as a socket may.
    const chunks = [requests.subarray(0, 3), requests.subarray(3, 11), requests.subarray(11)];
    const replies: number[] = [];
    await serveReadOnlyAgent((async function* () { yield* chunks; })(), connect(path), async (m) => void replies.push(m[4]));
    assert.deepEqual(seen, [11, 13, 23], "only list, sign and unlock were forwarded");
    assert.deepEqual(replies, [12, 5, 6, 5, 5, 5, 6], "answers in request order; refusals are SSH_AGENT_FAILURE");
  } finally {
    server.close();
  }
});

test("a malformed stream is refused, and abort cancels", async () => {
  await assert.rejects(async () => {
    for await (const m of agentMessages((async function* () { yield Buffer.from([0xff, 0xff, 0xff, 0xff, 1]); })())) void m;
  }, /Malformed SSH agent message/);
  const { path, server } = await fakeAgent([]);
  try {
    const stop = new AbortController();
    const never = (async function* (): AsyncGenerator<Uint8Array> { await new Promise(() => undefined); })();
    const served = serveReadOnlyAgent(never, connect(path), async () => undefined, { signal: stop.signal });
    stop.abort();
    await assert.rejects(served, (e: unknown) => isCanceled(e));
  } finally {
    server.close();
  }
});
