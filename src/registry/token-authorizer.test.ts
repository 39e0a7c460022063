import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { StreamResponse } from "./http-transport.js";
import { TokenAuthorizer } from "./token-authorizer.js";

const CHALLENGE = new StreamResponse({
  status: 401, url: "https://reg.example/v2/", body: null,
  headers: { "WWW-Authenticate": 'Bearer realm="https://auth.example/token",service="reg"' },
});

function jsonResponse(value: unknown): StreamResponse {
  return new StreamResponse({
    status: 200, url: "https://auth.example/token", headers: { "content-type": "application/json" },
    body: Readable.from([Buffer.from(JSON.stringify(value))]),
  });
}

test("bearer tokens are cached per identity: another build's credentials never reuse them", async () => {
  let user = "alice";
  const fetched: string[] = [];
  const auth = new TokenAuthorizer({
    credentials: async () => ({ username: user, password: `${user}-pw` }),
    send: async (url, init) => {
      const who = Buffer.from(String(init.headers?.Authorization).slice(6), "base64").toString();
      fetched.push(who);
      assert.ok(url.includes("account="));
      return jsonResponse({ token: `token-of-${who}`, expires_in: 300 });
    },
  });
  assert.ok(auth.learn("reg.example", "repository:app:pull", CHALLENGE));
  assert.equal(await auth.authorization("reg.example", "repository:app:pull"), "Bearer token-of-alice:alice-pw");
  assert.equal(await auth.authorization("reg.example", "repository:app:pull"), "Bearer token-of-alice:alice-pw", "cached");
  user = "bob";
  assert.equal(await auth.authorization("reg.example", "repository:app:pull"), "Bearer token-of-bob:bob-pw");
  assert.deepEqual(fetched, ["alice:alice-pw", "bob:bob-pw"]);
  // A refusal drops the scope's tokens for every identity.
  auth.learn("reg.example", "repository:app:pull", CHALLENGE);
  user = "alice";
  await auth.authorization("reg.example", "repository:app:pull");
  assert.equal(fetched.length, 3);
});
