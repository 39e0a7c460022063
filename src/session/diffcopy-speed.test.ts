// DiffCopy speed over a real session (ClientSession ↔ SessionManager, HTTP/2 inside the byte stream a
// Control.Session call carries): listing thousands of unchanged files must be batched into few messages
// and finish quickly. Packet-at-a-time flushing made this seconds per thousand files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClientSession } from "./client-session.js";
import { SessionManager } from "./session-manager.js";
import { Channel } from "./testing/memory-pipe.js";

const DIRS = 50;
const FILES_PER_DIR = 100;
const FILES = DIRS * FILES_PER_DIR;

/** Connects client and manager as a Control.Session call would; counts the chunks sent to the daemon. */
function attach(client: ClientSession, manager: SessionManager): { toDaemon: { chunks: number }; ended: Promise<void> } {
  const toDaemon = new Channel<Uint8Array>();
  const toClient = new Channel<Uint8Array>();
  const counter = { chunks: 0 };
  const clientOut = client.serve(toClient);
  const daemonOut = manager.handleSession(client.headers(), toDaemon);
  const pump = async (src: AsyncIterable<Uint8Array>, dst: Channel<Uint8Array>, count?: { chunks: number }): Promise<void> => {
    for await (const chunk of src) {
      if (count) count.chunks++;
      dst.push(Buffer.from(chunk));
    }
    dst.end();
  };
  return { toDaemon: counter, ended: Promise.all([pump(clientOut, toDaemon, counter), pump(daemonOut, toClient)]).then(() => undefined) };
}

test(`a no-change sync of ${FILES} files over a session is batched and fast; one change moves one file`, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "gantry-dc-speed-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const src = join(work, "src");
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `file ${d} ${f}\n`.repeat(20));
  }
  const dest = join(work, "dest");
  const client = new ClientSession({ locals: { context: src }, registryAuth: false });
  const manager = new SessionManager();
  const link = attach(client, manager);
  const session = await manager.getSession(client.id);
  try {
    let t0 = performance.now();
    const cold = await session.syncLocal("context", dest, {});
    const coldMs = performance.now() - t0;
    assert.equal(cold.files, FILES);

    const before = link.toDaemon.chunks;
    t0 = performance.now();
    // As source-local.ts does: the index the last sync returned describes dest, so dest is not read.
    assert.ok(cold.index, "the gRPC session returns the index of what it left");
    const again = await session.syncLocal("context", dest, { previousIndex: cold.index });
    const warmMs = performance.now() - t0;
    const chunks = link.toDaemon.chunks - before;
    assert.equal(again.files, 0, "nothing changed, nothing is transferred");
    t.diagnostic(`cold ${coldMs.toFixed(0)} ms, no-change ${warmMs.toFixed(0)} ms in ${chunks} chunks for ${FILES + DIRS} entries`);
    // One message per listing entry (or per flush of each) is the regression this guards against.
    assert.ok(chunks < (FILES + DIRS) / 20, `the no-change listing took ${chunks} chunks`);
    // Generous for a loaded 2-CPU machine; the packet-at-a-time transfer took several times this.
    assert.ok(warmMs < 3000, `the no-change sync took ${warmMs.toFixed(0)} ms`);

    writeFileSync(join(src, "d7/f33"), "changed\n");
    assert.ok(again.index);
    const one = await session.syncLocal("context", dest, { previousIndex: again.index });
    assert.deepEqual({ files: one.files, bytes: one.bytes }, { files: 1, bytes: "changed\n".length });
    assert.equal(readFileSync(join(dest, "d7/f33"), "utf8"), "changed\n");
    // Without an index the receiver compares with dest itself and finds the same.
    const plain = await session.syncLocal("context", dest, {});
    assert.deepEqual({ files: plain.files, bytes: plain.bytes }, { files: 0, bytes: 0 });
  } finally {
    client.close();
    session.close();
    await link.ended;
  }
});
