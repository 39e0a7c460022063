import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { parseReference } from "../oci/reference.js";
import { codeOf } from "../util/errors.js";
import type { CredentialSource } from "./docker-config-auth.js";
import { RegistryClient } from "./registry-client.js";
import { RegistryError } from "./registry-error.js";
import { Resolver } from "./resolver.js";
import { FakeRegistry } from "./testing/fake-registry.js";

const fast = { baseDelayMs: 1, maxDelayMs: 5 };
let reg: FakeRegistry;

before(async () => {
  reg = await FakeRegistry.start();
  reg.addImage("app", ["1"], [Buffer.from("layer-one")]);
});
after(() => reg.close());

function fresh(): void {
  reg.auth = undefined;
  reg.hooks.length = 0;
  reg.log.length = 0;
  reg.tokensIssued = 0;
}

const creds = (username: string, password: string): CredentialSource => async () => ({ username, password });

async function rejectsWith(p: Promise<unknown>, code: string, check?: (e: RegistryError) => void): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal(codeOf(err), code, String(err));
    if (check) {
      assert.ok(err instanceof RegistryError, `not a RegistryError: ${String(err)}`);
      check(err);
    }
    return true;
  });
}

test("plain http for loopback and listed hosts, https otherwise; docker.io goes to registry-1", () => {
  const c = new RegistryClient({ insecure: ["reg.internal:8080", "plain.example"] });
  assert.equal(c.repositoryUrl(parseReference("localhost:5000/a")), "http://localhost:5000/v2/a/");
  assert.equal(c.repositoryUrl(parseReference("127.0.0.1/a")), "http://127.0.0.1/v2/a/");
  assert.equal(c.repositoryUrl(parseReference("[::1]:5000/a")), "http://[::1]:5000/v2/a/");
  assert.equal(c.repositoryUrl(parseReference("reg.internal:8080/a")), "http://reg.internal:8080/v2/a/");
  assert.equal(c.repositoryUrl(parseReference("plain.example:9/a")), "http://plain.example:9/v2/a/");
  assert.equal(c.repositoryUrl(parseReference("ghcr.io/a")), "https://ghcr.io/v2/a/");
  assert.equal(c.repositoryUrl(parseReference("busybox")), "https://registry-1.docker.io/v2/library/busybox/");
});

test("401 with a Bearer challenge: fetch a token from the realm, retry, then reuse the cached token", async () => {
  fresh();
  reg.auth = { scheme: "bearer", username: "u", password: "p" };
  const client = new RegistryClient({ credentials: creds("u", "p"), retry: fast });
  const resolver = new Resolver({ client });
  const r = await resolver.resolve(`${reg.host}/app:1`);
  assert.equal(r.manifest.layers.length, 1);
  await resolver.resolve(`${reg.host}/app:1`);
  assert.equal(reg.tokensIssued, 1, "the token is cached per registry and scope");
  const token = reg.log.find((l) => l.url.startsWith("/token"));
  assert.ok(token, "the realm was asked");
  assert.match(token.url, /service=fake-registry/);
  assert.match(token.url, /scope=repository%3Aapp%3Apull/);
  assert.equal(token.auth, `Basic ${Buffer.from("u:p").toString("base64")}`);
  assert.equal(reg.log.filter((l) => l.url.startsWith("/v2/") && !l.auth).length, 1, "only the first request is anonymous");
});

test("Bearer: refused credentials are FailedPrecondition, without the password in the message", async () => {
  fresh();
  reg.auth = { scheme: "bearer", username: "u", password: "right" };
  const resolver = new Resolver({ client: new RegistryClient({ credentials: creds("u", "wr0ng-s3cret"), retry: fast }) });
  await rejectsWith(resolver.resolve(`${reg.host}/app:1`), "FailedPrecondition", (e) => {
    assert.equal(e.status, 401);
    assert.match(e.message, /Cannot get a registry token for 127\.0\.0\.1:\d+ from http:\/\/127\.0\.0\.1:\d+\/token: authentication required/);
    assert.ok(!e.message.includes("wr0ng-s3cret"));
    assert.ok(!JSON.stringify(e).includes("wr0ng-s3cret"));
    assert.match(e.hint ?? "", /docker login/);
  });
});

test("Basic auth with credentials; without them the 401 is FailedPrecondition", async () => {
  fresh();
  reg.auth = { scheme: "basic", username: "bob", password: "pw" };
  const ok = new Resolver({ client: new RegistryClient({ credentials: creds("bob", "pw"), retry: fast }) });
  assert.equal((await ok.resolve(`${reg.host}/app:1`)).config.architecture, "amd64");
  const anon = new Resolver({ client: new RegistryClient({ retry: fast }) });
  await rejectsWith(anon.resolve(`${reg.host}/app:1`), "FailedPrecondition", (e) => {
    assert.equal(e.status, 401);
    assert.equal(e.retryable, false);
    assert.match(e.message, /^Cannot resolve image 127\.0\.0\.1:\d+\/app:1: authentication required/);
  });
});

test("429 and 503 are retried with backoff, then succeed", async () => {
  fresh();
  let left = 2;
  reg.hooks.push((req, res) => {
    if (!req.url?.includes("/manifests/") || left <= 0) return false;
    res.writeHead(left-- === 2 ? 429 : 503, { "Retry-After": "0" }).end();
    return true;
  });
  const r = await new Resolver({ client: new RegistryClient({ retry: fast }) }).resolve(`${reg.host}/app:1`);
  assert.equal(r.manifest.layers.length, 1);
  assert.equal(reg.log.filter((l) => l.url.includes("/manifests/")).length, 3);
});

test("retries are bounded: a registry that keeps failing is Unavailable and retryable", async () => {
  fresh();
  reg.hooks.push((req, res) => {
    res.writeHead(502).end();
    return true;
  });
  const client = new RegistryClient({ retry: { ...fast, maxRetries: 2 } });
  await rejectsWith(new Resolver({ client }).resolve(`${reg.host}/app:1`), "Unavailable", (e) => {
    assert.equal(e.status, 502);
    assert.equal(e.retryable, true);
  });
  assert.equal(reg.log.length, 3);
});

test("a reset connection is retried", async () => {
  fresh();
  let resets = 1;
  reg.hooks.push((req) => {
    if (resets-- <= 0) return false;
    req.socket.destroy();
    return true;
  });
  const r = await new Resolver({ client: new RegistryClient({ retry: fast }) }).resolve(`${reg.host}/app:1`);
  assert.equal(r.manifest.layers.length, 1);
});

test("connection refused is Unavailable at once", async () => {
  const dead = await FakeRegistry.start();
  const host = dead.host;
  await dead.close();
  // A retry would wait at least 30 s, so the bound below tells "no retry" apart from a slow machine.
  const client = new RegistryClient({ retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
  const started = Date.now();
  await rejectsWith(new Resolver({ client }).resolve(`${host}/app:1`), "Unavailable", (e) => {
    assert.equal(e.retryable, false);
    assert.equal(e.message, `Cannot resolve image ${host}/app:1: connection refused by ${host}.`);
  });
  assert.ok(Date.now() - started < 25_000, "no backoff for a refused connection");
});

test("an abort while waiting to retry is Canceled", async () => {
  fresh();
  reg.hooks.push((_req, res) => {
    res.writeHead(503, { "Retry-After": "30" }).end();
    return true;
  });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const client = new RegistryClient({ retry: { maxDelayMs: 60_000 } });
  await rejectsWith(new Resolver({ client }).resolve(`${reg.host}/app:1`, { signal: ac.signal }), "Canceled");
});

test("an identity token is exchanged at the realm by POST (OAuth refresh token)", async () => {
  fresh();
  reg.auth = { scheme: "bearer", password: "refresh-123" };
  const client = new RegistryClient({ credentials: async () => ({ identityToken: "refresh-123" }), retry: fast });
  const r = await new Resolver({ client }).resolve(`${reg.host}/app:1`);
  assert.equal(r.manifest.layers.length, 1);
  const form = reg.tokenForms.at(-1);
  assert.ok(form);
  assert.equal(form.get("grant_type"), "refresh_token");
  assert.equal(form.get("service"), "fake-registry");
  assert.equal(form.get("scope"), "repository:app:pull");
  assert.equal(form.get("client_id"), "gantry");
});

test("a registry token from the credentials is sent as is", async () => {
  fresh();
  reg.auth = { scheme: "bearer" };
  const client = new RegistryClient({ credentials: async () => ({ registryToken: "tok-77" }), retry: fast });
  await new Resolver({ client }).resolve(`${reg.host}/app:1`);
  assert.equal(reg.tokensIssued, 0);
  assert.ok(reg.log.some((l) => l.auth === "Bearer tok-77"));
});
