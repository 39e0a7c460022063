import { test } from "node:test";
import assert from "node:assert/strict";
import { codeOf } from "../util/errors.js";
import { DaemonMetrics } from "./daemon-metrics.js";
import { parseDebugAddress, startDebugServer } from "./debug-server.js";

test("debug addresses: host:port, tcp://, unix://; others are refused", () => {
  assert.deepEqual(parseDebugAddress("127.0.0.1:6060"), { host: "127.0.0.1", port: 6060 });
  assert.deepEqual(parseDebugAddress("tcp://[::1]:6060"), { host: "::1", port: 6060 });
  assert.deepEqual(parseDebugAddress("unix:///run/gantry/debug.sock"), { path: "/run/gantry/debug.sock" });
  assert.throws(() => parseDebugAddress("http://x:1"), (err) => codeOf(err) === "InvalidArgument");
  assert.throws(() => parseDebugAddress("localhost"), (err) => codeOf(err) === "InvalidArgument");
});

test("health, metrics with a sampled cache, vars, 404", async () => {
  let healthy = true;
  let reads = 0;
  const metrics = new DaemonMetrics();
  metrics.buildStarted();
  const server = await startDebugServer("127.0.0.1:0", {
    metrics, healthy: () => healthy, cacheUsage: async () => ({ records: ++reads, bytes: 10 }),
  });
  try {
    const base = `http://${server.address}`;
    let res = await fetch(`${base}/debug/health`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok\n");
    res = await fetch(`${base}/metrics`);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^gantry_builds_running 1$/m);
    assert.match(text, /^gantry_cache_records 1$/m);
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^gantry_cache_records 1$/m, "the cache is sampled, not read per scrape");
    const vars = await (await fetch(`${base}/debug/vars`)).json() as { buildsRunning: number; memstats: { rss: number } };
    assert.equal(vars.buildsRunning, 1);
    assert.ok(vars.memstats.rss > 0);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    healthy = false;
    assert.equal((await fetch(`${base}/debug/health`)).status, 503);
  } finally {
    await server.close();
  }
});
