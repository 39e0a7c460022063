import assert from "node:assert/strict";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openTraceFile } from "./trace-file.js";

test("--trace appends one SolveStatus JSON line per update to a 0600 file", async () => {
  const path = join(await mkdtemp(join(tmpdir(), "trace-")), "trace.json");
  for (const name of ["first build", "second build"]) {
    const trace = await openTraceFile(path);
    assert.ok(trace);
    trace.write({ type: "vertex", digest: "sha256:" + "a".repeat(64), inputs: [], name, started: new Date(0) });
    await trace.close();
  }
  const lines = (await readFile(path, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { vertexes: Array<{ name: string }> });
  assert.deepEqual(lines.map((l) => l.vertexes[0].name), ["first build", "second build"], "appended, not overwritten");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal(await openTraceFile(undefined), undefined);
  await assert.rejects(openTraceFile(join(path, "not-a-dir", "x")), /--trace/);
});
