import { test } from "node:test";
import assert from "node:assert/strict";
import { frontendOptsFromEnv, gatewayEnv } from "./gateway-env.js";

test("frontend options survive the environment, values with = included", () => {
  const attrs = { source: "reg/fe:1", "build-arg:A": "x=y", empty: "" };
  const env = gatewayEnv(attrs, { sessionId: "s1", workers: [{ ID: "w", Labels: {}, Platforms: [{ os: "linux", architecture: "amd64" }] }] });
  assert.ok(env.includes("BUILDKIT_SESSION_ID=s1"));
  assert.ok(env.includes("BUILDKIT_EXPORTEDPRODUCT=gantry"));
  assert.ok(env.includes('BUILDKIT_WORKERS=[{"ID":"w","Labels":{},"Platforms":[{"os":"linux","architecture":"amd64"}]}]'));
  const asProcessEnv = Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  assert.deepEqual(frontendOptsFromEnv({ ...asProcessEnv, PATH: "/bin" }), attrs);
});
