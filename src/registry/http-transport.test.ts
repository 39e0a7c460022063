import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { codeOf } from "../util/errors.js";
import { bodyChunks } from "./body-chunks.js";
import { nodeHttpTransport, StreamResponse, type HttpTransport } from "./http-transport.js";
import { RegistryClient } from "./registry-client.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
  reused: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

/** A loopback server that records every request (with its whole body) before `handler` answers it. */
async function serve(handler: Handler): Promise<{ origin: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const sockets = new WeakSet<object>();
  const server = createServer((req, res) => {
    const reused = sockets.has(req.socket);
    sockets.add(req.socket);
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c)).on("end", () => {
      const s: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(parts), reused };
      seen.push(s);
      handler(req, res, s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const servers: Server[] = [];
const agents: Agent[] = [];
after(async () => {
  for (const a of agents) a.destroy();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A transport with its own connection pool, so tests do not share sockets. */
function transport(maxRedirects?: number, stallTimeoutMs?: number): HttpTransport {
  const agent = new Agent({ keepAlive: true });
  agents.push(agent);
  return nodeHttpTransport({ httpAgent: agent, maxRedirects, stallTimeoutMs });
}

test("status, case-insensitive headers and the body; HEAD has no body", async () => {
  const { origin } = await serve((_req, res, s) => {
    res.writeHead(200, { "Content-Type": "text/plain", "X-Thing": "a", "Set-Cookie": ["c=1", "d=2"] });
    res.end(s.method === "HEAD" ? undefined : "hello");
  });
  const send = transport();
  const res = await send(`${origin}/x`, {});
  assert.equal(res.status, 200);
  assert.equal(res.ok, true);
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(res.headers.get("X-THING"), "a");
  assert.equal(res.headers.get("set-cookie"), "c=1, d=2");
  assert.equal(res.headers.get("missing"), null);
  assert.equal(await res.text(), "hello");
  await assert.rejects(res.text(), /already read/);
  const head = await send(`${origin}/x`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
});

test("redirects are followed; Authorization goes along to the same origin but not to another", async () => {
  const blobs = await serve((_req, res) => res.end("blob-bytes"));
  const { origin, seen } = await serve((req, res) => {
    if (req.url === "/v2/a") res.writeHead(307, { Location: "/v2/b" }).end();
    else if (req.url === "/v2/b") res.writeHead(302, { Location: `${blobs.origin}/store/abc?sig=1` }).end();
    else res.writeHead(404).end();
  });
  const res = await transport()(`${origin}/v2/a`, { headers: { Authorization: "Bearer secret", Accept: "x/y" } });
  assert.equal(res.status, 200);
  assert.equal(res.redirected, true);
  assert.equal(res.url, `${blobs.origin}/store/abc?sig=1`);
  assert.equal(await res.text(), "blob-bytes");
  assert.deepEqual(seen.map((s) => [s.url, s.headers.authorization]), [["/v2/a", "Bearer secret"], ["/v2/b", "Bearer secret"]]);
  assert.equal(blobs.seen.length, 1);
  assert.equal(blobs.seen[0].headers.authorization, undefined, "no credentials for another origin");
  assert.equal(blobs.seen[0].headers.accept, "x/y", "other headers go along");
});

test("303 turns a POST into a GET without body; 307 sends the body again from a fresh stream", async () => {
  let made = 0;
  const body = (): Readable => {
    made++;
    return Readable.from([Buffer.from("part1-"), Buffer.from("part2")]);
  };
  const { origin, seen } = await serve((req, res) => {
    if (req.url === "/see-other") res.writeHead(303, { Location: "/landed" }).end();
    else if (req.url === "/temp") res.writeHead(307, { Location: "/landed" }).end();
    else res.end("ok");
  });
  const send = transport();
  await (await send(`${origin}/see-other`, { method: "POST", headers: { "Content-Type": "a/b" }, body })).text();
  assert.deepEqual(seen.map((s) => [s.method, s.url, s.body.toString(), s.headers["content-type"]]),
    [["POST", "/see-other", "part1-part2", "a/b"], ["GET", "/landed", "", undefined]]);
  assert.equal(made, 1);
  seen.length = 0;
  await (await send(`${origin}/temp`, { method: "PUT", body })).text();
  assert.deepEqual(seen.map((s) => [s.method, s.url, s.body.toString()]), [["PUT", "/temp", "part1-part2"], ["PUT", "/landed", "part1-part2"]]);
  assert.equal(made, 3);
});

test("more than the redirect limit fails with ERR_REDIRECT_LIMIT; through the client it is Unavailable", async () => {
  const { origin, seen } = await serve((req, res) => res.writeHead(302, { Location: `/r${seen.length}` }).end());
  await assert.rejects(transport(3)(`${origin}/v2/x/manifests/1`, {}), (err: unknown) => {
    assert.equal((err as { code?: string }).code, "ERR_REDIRECT_LIMIT");
    return true;
  });
  assert.equal(seen.length, 4, "the first request and three redirects");
  const client = new RegistryClient({ transport: transport(), retry: { maxRetries: 0 } });
  const host = new URL(origin).host;
  await assert.rejects(client.request({ ref: { registry: host, repository: "x" }, path: "manifests/1", action: "resolve x" }),
    (err: unknown) => {
      assert.equal(codeOf(err), "Unavailable");
      assert.match((err as Error).message, /^Cannot resolve x: 127\.0\.0\.1:\d+ redirected more than 10 times\.$/);
      return true;
    });
});

test("a streamed upload arrives whole, chunked when no length is given", async () => {
  const { origin, seen } = await serve((_req, res) => res.writeHead(201).end());
  const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
  async function* produce(): AsyncGenerator<Uint8Array> {
    for (const c of chunks) yield new Uint8Array(c);
  }
  const res = await transport()(`${origin}/upload`, { method: "PUT", body: produce });
  assert.equal(res.status, 201);
  assert.equal(seen[0].headers["transfer-encoding"], "chunked");
  assert.ok(seen[0].body.equals(Buffer.concat(chunks)));
});

test("an abort while the body is being read fails the read with Canceled and closes the connection", async () => {
  let closed!: Promise<void>;
  const server = createServer((req, res) => {
    closed = new Promise((resolve) => req.socket.on("close", () => resolve()));
    res.writeHead(200, { "Content-Length": "1000000" });
    res.write(Buffer.alloc(1000, 1)); // …and never the rest
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const ac = new AbortController();
  const res = await transport()(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: ac.signal });
  assert.ok(res.body);
  let got = 0;
  await assert.rejects((async () => {
    for await (const chunk of bodyChunks(res.body as Readable)) {
      got += chunk.length;
      ac.abort();
    }
  })(), (err: unknown) => codeOf(err) === "Canceled");
  assert.ok(got > 0);
  await closed;
});

test("an abort before the answer rejects with Canceled", async () => {
  const { origin } = await serve(() => undefined); // never answers
  const ac = new AbortController();
  const pending = transport()(`${origin}/slow`, { signal: ac.signal });
  setImmediate(() => ac.abort());
  await assert.rejects(pending, (err: unknown) => codeOf(err) === "Canceled");
});

test("a pooled connection closed by the server is retried once on a fresh one; a fresh one is not", async () => {
  const { origin, seen } = await serve((req, res, s) => {
    if (s.reused) req.socket.destroy();
    else res.end("ok");
  });
  const send = transport();
  assert.equal(await (await send(`${origin}/1`, {})).text(), "ok");
  // The second request goes out on the kept-alive socket, which the server drops.
  let made = 0;
  const res = await send(`${origin}/2`, { method: "PUT", body: () => String(++made) });
  assert.equal(await res.text(), "ok");
  assert.deepEqual(seen.map((s) => [s.url, s.reused, s.body.toString()]), [["/1", false, ""], ["/2", true, "1"], ["/2", false, "2"]]);

  const { origin: resetting } = await serve((req) => req.socket.destroy());
  await assert.rejects(transport()(`${resetting}/x`, {}), (err: unknown) => (err as { code?: string }).code === "ECONNRESET");
});

test("a server that stops answering, before the headers or mid-body, fails with ETIMEDOUT", async () => {
  const { origin } = await serve((req, res) => {
    if (req.url === "/silent") return; // never answers
    res.writeHead(200, { "Content-Length": "10" });
    res.write("12345"); // and never the rest
  });
  const send = transport(undefined, 150);
  await assert.rejects(send(`${origin}/silent`, {}), (err: unknown) => (err as { code?: string }).code === "ETIMEDOUT");
  const res = await send(`${origin}/half`, {});
  assert.equal(res.status, 200);
  await assert.rejects(res.text(), (err: unknown) => (err as { code?: string }).code === "ETIMEDOUT");
});

test("StreamResponse reads JSON and bytes", async () => {
  const res = new StreamResponse({ status: 404, url: "http://x/", headers: {}, body: Readable.from([Buffer.from('{"a":1}')]) });
  assert.equal(res.ok, false);
  assert.deepEqual(await res.json(), { a: 1 });
  const bytes = new StreamResponse({ status: 200, url: "http://x/", headers: {}, body: Readable.from([Buffer.from("ab"), Buffer.from("c")]) });
  assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), Buffer.from("abc"));
});

test("https: the default CAs refuse a self-signed registry (Unavailable with a hint); its CA makes it work", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "gantry-tls-"));
  let key: Buffer;
  let cert: Buffer;
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    key = readFileSync(join(dir, "key.pem"));
    cert = readFileSync(join(dir, "cert.pem"));
  } catch {
    t.skip("openssl is not available");
    return;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const server = createHttpsServer({ key, cert }, (_req, res) => res.end("secure"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const trusting = new HttpsAgent({ ca: cert, keepAlive: true });
  const res = await nodeHttpTransport({ httpsAgent: trusting })(`https://${host}/v2/`, {});
  assert.equal(await res.text(), "secure");
  trusting.destroy();
  const viaClient = new RegistryClient({ retry: { maxRetries: 0 } });
  await assert.rejects(viaClient.request({ ref: { registry: host, repository: "x" }, url: `https://${host}/v2/x/manifests/1`, path: "", action: "resolve x" }),
    (err: unknown) => {
      assert.equal(codeOf(err), "Unavailable");
      assert.match((err as Error).message, /^Cannot resolve x: TLS failed with 127\.0\.0\.1:\d+ \(\w*CERT\w*\)\.$/);
      return true;
    });
});

test("none of this loads undici (the fetch globals were never touched)", () => {
  const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList.filter((m) => m.includes("undici"));
  assert.deepEqual(loaded, []);
});
