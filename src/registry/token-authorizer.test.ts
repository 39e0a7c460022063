import assert from "node:assert/strict";
import { test } from "node:test";
import { TokenAuthorizer } from "./token-authorizer.js";

const CHALLENGE = new Response(null, {
  status: 401, headers: { "www-authenticate": 'Bearer realm="https://auth.example/token",service="reg"' },
});

test("bearer tokens are cached per identity: another build's credentials never reuse them", async () => {
  let user = "alice";
  const fetched: string[] = [];
  const auth = new TokenAuthorizer({
    credentials: async () => ({ username: user, password: `${user}-pw` }),
    send: async (url, init) => {
      const who = Buffer.from(String((init.headers as Record<string, string>).Authorization).slice(6), "base64").toString();
      fetched.push(who);
      assert.ok(url.includes("account="));
      return Response.json({ token: `token-of-${who}`, expires_in: 300 });
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
