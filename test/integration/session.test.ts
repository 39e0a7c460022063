// The session protocol end to end, in one process: a ClientSession and the daemon's SessionManager talk
// HTTP/2 gRPC through a simulated Control.Session byte stream whose chunks are split and merged at random.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ClientSession } from "../../src/session/client-session.js";
import { SessionManager } from "../../src/session/session-manager.js";
import { Channel, rechunk } from "../../src/session/testing/memory-pipe.js";
import { isNotFound } from "../../src/util/errors.js";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Connects a client session to the manager as a Control.Session call would, with random re-chunking. */
function attach(client: ClientSession, manager: SessionManager, seed: number): { ended: Promise<void> } {
  const toDaemon = new Channel<Uint8Array>();
  const toClient = new Channel<Uint8Array>();
  const clientOut = client.serve(rechunk(toClient, seeded(seed)));
  const daemonOut = manager.handleSession(client.headers(), rechunk(toDaemon, seeded(seed + 1)));
  const pump = async (src: AsyncIterable<Uint8Array>, dst: Channel<Uint8Array>): Promise<void> => {
    for await (const chunk of src) dst.push(Buffer.from(chunk));
    dst.end();
  };
  return { ended: Promise.all([pump(clientOut, toDaemon), pump(daemonOut, toClient)]).then(() => undefined) };
}

async function tree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const n of (await readdir(join(root, rel))).sort()) {
    const p = rel ? `${rel}/${n}` : n;
    out.push(p);
    if ((await stat(join(root, p))).isDirectory()) out.push(...(await tree(root, p)));
  }
  return out;
}

test("a local directory, secrets and exports travel through the session", async () => {
  const work = await mkdtemp(join(tmpdir(), "gantry-session-"));
  const src = join(work, "src");
  const dest = join(work, "dest");
  const out = join(work, "out");
  await mkdir(join(src, "app/node_modules"), { recursive: true });
  await writeFile(join(src, "Dockerfile"), "FROM scratch\n");
  await writeFile(join(src, "app/main.js"), "console.log(1)\n");
  await writeFile(join(src, "app/big.bin"), Buffer.alloc(300_000, 1));
  await writeFile(join(src, "app/node_modules/dep.js"), "x");
  await writeFile(join(src, "notes ü.txt"), "unicode name");

  const exported: Buffer[] = [];
  let exportedMd: Record<string, string> = {};
  const client = new ClientSession({
    name: "test",
    sharedKey: "key-1",
    locals: { context: src },
    secrets: { token: { data: Buffer.from("s3cr3t") } },
    exports: [
      { type: "dir", path: out },
      { type: "writer", open: (md) => {
        exportedMd = md;
        return new Writable({ write(c: Buffer, _e, cb) { exported.push(c); cb(); } });
      } },
    ],
  });
  const manager = new SessionManager({ healthIntervalMs: 50 });
  try {
    // Solve may ask for the session before the client attaches.
    const pending = manager.getSession(client.id, { timeoutMs: 30_000 });
    const conn = attach(client, manager, 7);
    const session = await pending;
    assert.equal(session.sharedKey, "key-1");
    assert.ok(session.supports("/moby.filesync.v1.filesync/diffcopy"), "method names compare case-insensitively");

    const first = await session.syncLocal("context", dest, { exclude: ["**/node_modules", "*.md"] });
    assert.deepEqual(await tree(dest), ["Dockerfile", "app", "app/big.bin", "app/main.js", "notes ü.txt"]);
    assert.equal(first.files, 4);
    assert.equal(first.bytes, 13 + 15 + 300_000 + 12);
    assert.equal(await readFile(join(dest, "app/main.js"), "utf8"), "console.log(1)\n");

    await writeFile(join(src, "app/main.js"), "console.log(2)\n");
    const second = await session.syncLocal("context", dest, { exclude: ["**/node_modules"] });
    assert.equal(second.files, 1);
    assert.equal(await readFile(join(dest, "app/main.js"), "utf8"), "console.log(2)\n");

    // Non-ASCII patterns travel URL-encoded with the -encoded flag; includes narrow the transfer.
    await session.syncLocal("context", dest, { include: ["notes ü.txt", "Dockerfile"] });
    assert.deepEqual(await tree(dest), ["Dockerfile", "notes ü.txt"]);

    await assert.rejects(session.syncLocal("nope", join(work, "x"), {}), (err) => isNotFound(err));
    assert.deepEqual(Buffer.from(await session.getSecret("token")).toString(), "s3cr3t");
    await assert.rejects(session.getSecret("missing"), (err) => isNotFound(err) && /missing/.test(String(err)));

    // Exports: a directory (DiffCopy with the daemon sending) and a raw byte stream with metadata.
    await session.sendDir(src, { exporterId: 0 });
    assert.deepEqual(await tree(out), await tree(src));
    const payload = Buffer.alloc(5 << 20, 3);
    await pipeline(Readable.from([payload.subarray(0, 1000), payload.subarray(1000)]),
      session.fileSend({ "image.name": "x:1" }, { exporterId: 1 }));
    assert.equal(Buffer.concat(exported).equals(payload), true);
    assert.deepEqual(exportedMd, { "image.name": "x:1" });

    // Health checks run while idle and do not close a healthy session.
    await new Promise((r) => setTimeout(r, 200));
    await session.checkHealth(30_000); // only the answer counts: a loaded machine may take a second to give it

    client.close();
    await conn.ended;
    await session.closed;
    await assert.rejects(manager.getSession(client.id, { timeoutMs: 50 }), (err) => isNotFound(err));
  } finally {
    manager.close();
    await rm(work, { recursive: true, force: true });
  }
});

test("a canceled sync fails with Canceled and leaves the session usable, whatever the chunking", async () => {
  const work = await mkdtemp(join(tmpdir(), "gantry-session-"));
  await mkdir(join(work, "src"));
  for (let i = 0; i < 20; i++) await writeFile(join(work, "src", `f${i}`), Buffer.alloc(200_000, i));
  const manager = new SessionManager({ healthIntervalMs: 0 });
  try {
    for (const seed of [1, 2, 3]) {
      const client = new ClientSession({ locals: { ctx: join(work, "src") }, secrets: { a: { env: "GANTRY_TEST_NO_SUCH_VAR" } } });
      const conn = attach(client, manager, seed);
      const session = await manager.getSession(client.id);
      const ac = new AbortController();
      const dest = join(work, `dest${seed}`);
      const sync = session.syncLocal("ctx", dest, { signal: ac.signal });
      setTimeout(() => ac.abort(), 5);
      await assert.rejects(sync, (err) => (err as { code?: string }).code === "Canceled");
      const again = await session.syncLocal("ctx", dest, {});
      assert.ok(again.files > 0 && again.files <= 20);
      assert.equal((await tree(dest)).length, 20);
      await assert.rejects(session.getSecret("a"), (err) => isNotFound(err));
      session.close();
      await conn.ended;
    }
  } finally {
    manager.close();
    await rm(work, { recursive: true, force: true });
  }
});
