import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codeOf } from "../util/errors.js";
import { durationMs, loadConfigFile } from "./daemon-config.js";

test("durations: Go syntax or plain seconds", () => {
  assert.equal(durationMs("48h"), 48 * 3600 * 1000);
  assert.equal(durationMs("1h30m"), 90 * 60 * 1000);
  assert.equal(durationMs("1.5s"), 1500);
  assert.equal(durationMs("3600"), 3600 * 1000);
  assert.equal(durationMs("2 days"), undefined);
  assert.equal(durationMs(""), undefined);
});

test("[history] maxAge and maxEntries are read; a bad value names the file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-cfg-"));
  try {
    const path = join(dir, "gantryd.toml");
    await writeFile(path, "[history]\nmaxAge = 3600\nmaxEntries = 7\n");
    assert.deepEqual((await loadConfigFile(path, true)).history, { maxAgeMs: 3600 * 1000, maxEntries: 7 });
    await writeFile(path, "[history]\nmaxAge = \"24h\"\n");
    assert.deepEqual((await loadConfigFile(path, true)).history, { maxAgeMs: 24 * 3600 * 1000 });
    await writeFile(path, "debug = true\n");
    assert.equal((await loadConfigFile(path, true)).history, undefined);
    await writeFile(path, "[history]\nmaxAge = \"soon\"\n");
    await assert.rejects(loadConfigFile(path, true), (err: unknown) => codeOf(err) === "InvalidArgument" && String(err).includes(path));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
